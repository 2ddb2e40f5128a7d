//! One warning per outage of a background job: while the database cannot be reached, a job
//! that runs every so often would otherwise warn at every round. The first failure is a
//! warning, the ones after it until a success are debug lines, and the success that ends the
//! outage says how many rounds failed.

use std::fmt::Display;

/// Whether a background job is failing, and for how many rounds.
#[derive(Debug)]
pub struct Outage {
    job: &'static str,
    failed_rounds: u64,
}

impl Outage {
    /// A job named `job` in the log lines.
    pub fn of(job: &'static str) -> Self {
        Self {
            job,
            failed_rounds: 0,
        }
    }

    /// A round failed; `true` when it began an outage (and so was warned of).
    pub fn failed(&mut self, error: &dyn Display) -> bool {
        self.failed_rounds += 1;
        let began = self.failed_rounds == 1;
        if began {
            tracing::warn!(job = self.job, %error, "background job failing; retrying at its next round");
        } else {
            tracing::debug!(job = self.job, %error, rounds = self.failed_rounds, "background job still failing");
        }
        began
    }

    /// A round succeeded; `true` when it ended an outage.
    pub fn succeeded(&mut self) -> bool {
        let ended = self.failed_rounds > 0;
        if ended {
            tracing::info!(
                job = self.job,
                failed_rounds = self.failed_rounds,
                "background job recovered"
            );
        }
        self.failed_rounds = 0;
        ended
    }
}

#[cfg(test)]
mod tests {
    use super::Outage;

    #[test]
    fn only_the_first_failure_of_an_outage_is_warned_of_and_a_success_ends_it() {
        let mut outage = Outage::of("test");
        assert!(!outage.succeeded(), "no outage to end");
        assert!(outage.failed(&"down"), "the first failure warns");
        assert!(!outage.failed(&"down"), "the second does not");
        assert!(!outage.failed(&"down"));
        assert!(outage.succeeded(), "a success ends it");
        assert!(!outage.succeeded());
        assert!(outage.failed(&"down again"), "a new outage warns again");
    }
}
