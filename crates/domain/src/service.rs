//! The use cases of the customer service, and the one implementation of them.
//!
//! [`CustomerUseCases`] is the inbound port the HTTP adapter calls (mockable for its tests);
//! [`CustomerService`] implements it over the outbound ports.

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::{Conflict, RepositoryError, Rule, ServiceError, ValidationErrors};
use crate::generators;
use crate::models::{
    BulkUpdate, BulkUpdateReport, BulkWritten, Customer, CustomerEvent, CustomerExport, CustomerId,
    CustomerPage, CustomerPatch, CustomerStatistics, Email, ErasureReason, FailedUpdate,
    FailureReason, FeedPage, FeedQuery, FeedRead, ListQuery, LocationCount, LocationFilter,
    NewCustomer, PageRequest, Precondition, RequestContext, SearchCriteria, StatisticsWindow, Tags,
    Timeline, TimelineQuery, Tombstone, Username, ValidationContext, Written, requests_of,
};
use crate::ports::{
    Clock, CustomerHistory, CustomerReads, CustomerSearch, CustomerStore, IdSource, LocationLevel,
    RandomIds, RandomSuffixes, StatisticsSource, Storage, SuffixSource, SystemClock, Verification,
};

/// How many times a create is retried after a username or customer-id collision.
pub const MAX_CREATE_ATTEMPTS: usize = 5;
/// Longest text filter a search accepts.
pub const MAX_FILTER_LEN: usize = 255;
/// How many times an export reads the customer and its history again when the customer
/// changed between the two reads.
pub const MAX_EXPORT_ATTEMPTS: usize = 5;

/// The use cases over the storage ports (the store `W`, reads `R`, search `Q`, statistics
/// `T` and history `H`), a clock and two sources of randomness.
///
/// Everything is shared behind `Arc`s, so [`CustomerUseCases::for_request`] makes a copy
/// for one request (an attributed store; reads, search and history scoped to its context)
/// for the price of a few reference counts and allocations.
///
/// Which reads may be scoped is the rule here: the read-only use cases read through the
/// request's scope; a write's own reads (the customer as it is when a change has nothing to
/// write, why a write found no customer) go to `latest`, the unscoped reads that see every
/// committed write.
#[derive(Debug)]
pub struct CustomerService<
    W,
    R = W,
    Q = W,
    T = W,
    H = W,
    C = SystemClock,
    I = RandomIds,
    S = RandomSuffixes,
> {
    store: Arc<W>,
    reads: Arc<R>,
    latest: Arc<R>,
    search: Arc<Q>,
    statistics: Arc<T>,
    history: Arc<H>,
    clock: Arc<C>,
    ids: Arc<I>,
    suffixes: Arc<S>,
}

impl<W, R, Q, T, H> CustomerService<W, R, Q, T, H>
where
    W: CustomerStore,
    R: CustomerReads,
    Q: CustomerSearch,
    T: StatisticsSource,
    H: CustomerHistory,
{
    /// The service with the real clock and randomness.
    pub fn new(storage: Storage<W, R, Q, T, H>) -> Self {
        Self::with_sources(storage, SystemClock, RandomIds, RandomSuffixes)
    }
}

/// A malformed customer id cannot match any customer: it is simply not found.
fn parse_id(raw: &str) -> Result<CustomerId, ServiceError> {
    CustomerId::parse(raw).map_err(|_| ServiceError::NotFound)
}

fn found<T>(value: Option<T>) -> Result<T, ServiceError> {
    value.ok_or(ServiceError::NotFound)
}

/// Checks a free-text filter: bounded, no control characters (PostgreSQL rejects NUL).
fn check_filter(field: &'static str, value: &Option<String>, errors: &mut ValidationErrors) {
    if let Some(v) = value {
        if v.chars().count() > MAX_FILTER_LEN {
            errors.push(field, Rule::MaxLength(MAX_FILTER_LEN));
        } else if v.chars().any(char::is_control) {
            errors.push(field, Rule::ControlCharacters);
        }
    }
}

/// Trims a filter and drops it when empty.
fn clean_filter(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl<W, R, Q, T, H, C, I, S> CustomerService<W, R, Q, T, H, C, I, S>
where
    W: CustomerStore,
    R: CustomerReads,
    Q: CustomerSearch,
    T: StatisticsSource,
    H: CustomerHistory,
    C: Clock,
    I: IdSource,
    S: SuffixSource,
{
    /// The service with injected clock and randomness (for tests).
    pub fn with_sources(storage: Storage<W, R, Q, T, H>, clock: C, ids: I, suffixes: S) -> Self {
        let reads = Arc::new(storage.reads);
        Self {
            store: Arc::new(storage.store),
            reads: Arc::clone(&reads),
            latest: reads,
            search: Arc::new(storage.search),
            statistics: Arc::new(storage.statistics),
            history: Arc::new(storage.history),
            clock: Arc::new(clock),
            ids: Arc::new(ids),
            suffixes: Arc::new(suffixes),
        }
    }

    /// Why the customer named by `id` was not found through `reads`: erased, or never there
    /// (or deleted).
    async fn missing(reads: &R, id: &CustomerId) -> ServiceError {
        match reads.erasure(id).await {
            Ok(Some(_)) => ServiceError::Erased,
            Ok(None) => ServiceError::NotFound,
            Err(err) => err.into(),
        }
    }

    /// The customer as `reads` find it, or why there is none.
    async fn existing(reads: &R, id: &CustomerId) -> Result<Customer, ServiceError> {
        match reads.find_by_customer_id(id).await? {
            Some(customer) => Ok(customer),
            None => Err(Self::missing(reads, id).await),
        }
    }

    /// A conditional write's outcome as the use case answers it.
    async fn written<V>(&self, id: &CustomerId, outcome: Written<V>) -> Result<V, ServiceError> {
        match outcome {
            Written::Done(value) => Ok(value),
            Written::Missing => Err(Self::missing(&self.latest, id).await),
            Written::Stale { current } => Err(ServiceError::VersionMismatch { current }),
        }
    }

    /// Every event of the customer, oldest first.
    async fn history(&self, id: &CustomerId) -> Result<Vec<CustomerEvent>, ServiceError> {
        let mut events = Vec::new();
        let mut before = None;
        loop {
            let query = TimelineQuery {
                limit: TimelineQuery::MAX_LIMIT,
                before,
            };
            let page = self.history.timeline(id, &query).await?.unwrap_or_default();
            let full = page.len() == query.limit as usize;
            before = page.last().map(|event| event.id);
            events.extend(page);
            if !full {
                break;
            }
        }
        events.reverse();
        Ok(events)
    }

    fn context(&self) -> ValidationContext {
        ValidationContext {
            now: self.clock.now().naive_utc(),
        }
    }

    /// The first free candidate of the rounds, else a UUID-derived name.
    async fn free_username(&self, base: &str) -> Result<String, ServiceError> {
        for round in 0..generators::SUFFIX_DIGITS_BY_ROUND.len() {
            let candidates = generators::candidates(base, round, &*self.suffixes);
            let taken = self.store.taken_usernames(&candidates).await?;
            if let Some(free) = candidates.into_iter().find(|c| !taken.contains(c)) {
                return Ok(free);
            }
        }
        Ok(generators::uuid_username(base, &*self.ids))
    }
}

#[async_trait]
impl<W, R, Q, T, H, C, I, S> CustomerUseCases for CustomerService<W, R, Q, T, H, C, I, S>
where
    W: CustomerStore,
    R: CustomerReads,
    Q: CustomerSearch,
    T: StatisticsSource,
    H: CustomerHistory,
    C: Clock,
    I: IdSource,
    S: SuffixSource,
{
    async fn create(&self, input: NewCustomer) -> Result<Customer, ServiceError> {
        let draft = input.validate_into(&self.context())?;
        let base = generators::username_base(&draft.first_name, &draft.last_name);
        for _ in 0..MAX_CREATE_ATTEMPTS {
            let username = generators::to_username(&self.free_username(&base).await?, &*self.ids);
            let customer_id = generators::customer_id(&*self.ids);
            match self.store.insert(&customer_id, &username, &draft).await {
                Ok(customer) => return Ok(customer),
                // Someone took the name or the id between our check and our insert, or the
                // 32-bit id collided: the database said no, so try fresh candidates.
                Err(RepositoryError::Conflict(Conflict::Username | Conflict::CustomerId)) => {}
                Err(other) => return Err(other.into()),
            }
        }
        Err(ServiceError::GenerationExhausted(
            "username and customer id",
        ))
    }

    async fn get(&self, customer_id: &str) -> Result<Customer, ServiceError> {
        Self::existing(&self.reads, &parse_id(customer_id)?).await
    }

    async fn get_by_username(&self, username: &str) -> Result<Customer, ServiceError> {
        // Text that is no valid username cannot match one: answered without a query.
        let username = Username::parse(username).map_err(|_| ServiceError::NotFound)?;
        found(self.reads.find_by_username(username.as_str()).await?)
    }

    async fn get_by_email(&self, email: &str) -> Result<Customer, ServiceError> {
        // Stored emails are valid, so anything else cannot match (and PostgreSQL would
        // refuse a NUL byte in the query).
        let email = Email::parse(email).map_err(|_| ServiceError::NotFound)?;
        found(self.reads.find_by_email(email.as_str()).await?)
    }

    async fn list(&self, query: ListQuery) -> Result<CustomerPage, ServiceError> {
        Ok(self.reads.list(&query).await?)
    }

    async fn search(&self, criteria: SearchCriteria) -> Result<CustomerPage, ServiceError> {
        let criteria = SearchCriteria {
            query: clean_filter(criteria.query),
            first_name: clean_filter(criteria.first_name),
            last_name: clean_filter(criteria.last_name),
            email: clean_filter(criteria.email),
            phone: clean_filter(criteria.phone),
            city: clean_filter(criteria.city),
            state: clean_filter(criteria.state),
            country: clean_filter(criteria.country),
            company_name: clean_filter(criteria.company_name),
            tags: criteria.tags.filter(|t| !t.is_empty()),
            ..criteria
        };
        let mut errors = ValidationErrors::default();
        for (field, value) in [
            ("query", &criteria.query),
            ("first_name", &criteria.first_name),
            ("last_name", &criteria.last_name),
            ("email", &criteria.email),
            ("phone", &criteria.phone),
            ("city", &criteria.city),
            ("state", &criteria.state),
            ("country", &criteria.country),
            ("company_name", &criteria.company_name),
        ] {
            check_filter(field, value, &mut errors);
        }
        errors.into_result()?;
        Ok(self.search.search(&criteria).await?)
    }

    async fn update(
        &self,
        customer_id: &str,
        patch: CustomerPatch,
        expected: Precondition,
    ) -> Result<Customer, ServiceError> {
        let id = parse_id(customer_id)?;
        let changes = patch.validate_into(&self.context())?;
        if changes.is_empty() {
            // Nothing to write: the customer as it is, if the precondition holds (a read
            // is enough, as nothing depends on the version staying put).
            let customer = Self::existing(&self.latest, &id).await?;
            return if expected.admits(customer.version) {
                Ok(customer)
            } else {
                Err(ServiceError::VersionMismatch {
                    current: customer.version,
                })
            };
        }
        // An email held by another customer fails here on the unique index, which maps to
        // `EmailTaken`; no check-then-write race is possible. The precondition is checked by
        // the same statement.
        let outcome = self.store.update(&id, &changes, &expected).await?;
        self.written(&id, outcome).await
    }

    async fn bulk_update(&self, request: BulkUpdate) -> Result<BulkUpdateReport, ServiceError> {
        if request.customer_ids.is_empty() || request.customer_ids.len() > BulkUpdate::MAX_IDS {
            return Err(ValidationErrors::single(
                "customer_ids",
                Rule::Count {
                    min: 1,
                    max: BulkUpdate::MAX_IDS,
                },
            )
            .into());
        }
        if !request.updates.email.is_keep() {
            return Err(ValidationErrors::single("email", Rule::NotInBulkUpdate)
                .within("updates")
                .into());
        }
        let changes = request.validate_changes(&self.context())?;

        let mut requested: Vec<String> = Vec::new();
        for raw in request.customer_ids {
            if !requested.contains(&raw) {
                requested.push(raw);
            }
        }
        let mut failed_updates = Vec::new();
        let mut targets = Vec::new();
        for raw in &requested {
            match CustomerId::parse(raw) {
                Ok(id) => targets.push((id, request.expected_versions.get(raw).copied())),
                Err(_) => failed_updates.push(FailedUpdate {
                    customer_id: raw.clone(),
                    reason: FailureReason::NotFound,
                }),
            }
        }
        let outcome = if changes.is_empty() {
            // Nothing to write: report as if written, from what exists now.
            let mut found = BulkWritten::default();
            for (id, expected) in &targets {
                if let Some(customer) = self.latest.find_by_customer_id(id).await? {
                    match expected {
                        Some(version) if *version != customer.version => {
                            found.stale.push((id.clone(), customer.version));
                        }
                        _ => found.changed.push(id.clone()),
                    }
                }
            }
            found
        } else {
            self.store.bulk_update(&targets, &changes).await?
        };
        for (id, _) in &targets {
            if outcome.changed.contains(id) {
                continue;
            }
            let reason = match outcome.stale.iter().find(|(stale, _)| stale == id) {
                Some((_, current)) => FailureReason::VersionMismatch { current: *current },
                None => FailureReason::NotFound,
            };
            failed_updates.push(FailedUpdate {
                customer_id: id.to_string(),
                reason,
            });
        }
        let updated = outcome.changed;
        Ok(BulkUpdateReport {
            updated_count: updated.len() as u64,
            failed_updates,
            total_processed: requested.len() as u64,
        })
    }

    async fn verify_email(
        &self,
        customer_id: &str,
        expected: Precondition,
    ) -> Result<u64, ServiceError> {
        let id = parse_id(customer_id)?;
        let outcome = self
            .store
            .mark_verified(&id, Verification::Email, &expected)
            .await?;
        self.written(&id, outcome).await
    }

    async fn verify_phone(
        &self,
        customer_id: &str,
        expected: Precondition,
    ) -> Result<u64, ServiceError> {
        let id = parse_id(customer_id)?;
        let outcome = self
            .store
            .mark_verified(&id, Verification::Phone, &expected)
            .await?;
        self.written(&id, outcome).await
    }

    async fn record_login(
        &self,
        customer_id: &str,
        expected: Precondition,
    ) -> Result<u64, ServiceError> {
        let id = parse_id(customer_id)?;
        let outcome = self
            .store
            .record_login(&id, self.clock.now(), &expected)
            .await?;
        self.written(&id, outcome).await
    }

    async fn statistics(&self) -> Result<CustomerStatistics, ServiceError> {
        // Exact on every call: the repository reads aggregates kept with every write.
        let window = StatisticsWindow::ending_at(self.clock.now());
        Ok(self.statistics.statistics(&window).await?)
    }

    async fn by_tags(
        &self,
        tags: &str,
        page: PageRequest,
    ) -> Result<(Tags, Vec<Customer>), ServiceError> {
        let tags = Tags::parse(tags).map_err(|e| ValidationErrors::single("tags", e.rule))?;
        if tags.is_empty() {
            return Err(ValidationErrors::single("tags", Rule::NoTag).into());
        }
        let customers = self.reads.find_by_tags(&tags, &page).await?;
        Ok((tags, customers))
    }

    async fn by_location(
        &self,
        filter: LocationFilter,
        page: PageRequest,
    ) -> Result<Vec<Customer>, ServiceError> {
        let filter = LocationFilter {
            city: clean_filter(filter.city),
            state: clean_filter(filter.state),
            country: clean_filter(filter.country),
        };
        let mut errors = ValidationErrors::default();
        check_filter("city", &filter.city, &mut errors);
        check_filter("state", &filter.state, &mut errors);
        check_filter("country", &filter.country, &mut errors);
        errors.into_result()?;
        Ok(self.reads.find_by_location(&filter, &page).await?)
    }

    async fn locations(
        &self,
        level: LocationLevel,
        country: Option<String>,
    ) -> Result<Vec<LocationCount>, ServiceError> {
        let country = clean_filter(country);
        let mut errors = ValidationErrors::default();
        check_filter("country", &country, &mut errors);
        errors.into_result()?;
        Ok(self.reads.locations(level, country).await?)
    }

    async fn deactivate(
        &self,
        customer_id: &str,
        expected: Precondition,
    ) -> Result<u64, ServiceError> {
        let id = parse_id(customer_id)?;
        let outcome = self.store.deactivate(&id, &expected).await?;
        self.written(&id, outcome).await
    }

    async fn delete(&self, customer_id: &str, expected: Precondition) -> Result<(), ServiceError> {
        let id = parse_id(customer_id)?;
        let outcome = self.store.delete(&id, &expected).await?;
        self.written(&id, outcome).await
    }

    async fn health(&self) -> Result<(), ServiceError> {
        Ok(self.store.ping().await?)
    }

    fn for_request(&self, context: RequestContext) -> Arc<dyn CustomerUseCases> {
        Arc::new(Self {
            store: Arc::new(self.store.attributed(&context.provenance)),
            reads: Arc::new(self.latest.for_request(&context)),
            latest: Arc::clone(&self.latest),
            search: Arc::new(self.search.for_request(&context)),
            statistics: Arc::clone(&self.statistics),
            history: Arc::new(self.history.for_request(&context)),
            clock: Arc::clone(&self.clock),
            ids: Arc::clone(&self.ids),
            suffixes: Arc::clone(&self.suffixes),
        })
    }

    async fn timeline(
        &self,
        customer_id: &str,
        query: TimelineQuery,
    ) -> Result<Timeline, ServiceError> {
        let id = parse_id(customer_id)?;
        let events = found(self.history.timeline(&id, &query).await?)?;
        let full = events.len() == query.limit as usize;
        let next_before = full.then(|| events.last().map(|event| event.id)).flatten();
        Ok(Timeline {
            events,
            next_before,
        })
    }

    async fn feed(&self, query: FeedQuery) -> Result<FeedPage, ServiceError> {
        let wait = chrono::Duration::from_std(query.wait).unwrap_or(chrono::Duration::MAX);
        let deadline = self.clock.now().checked_add_signed(wait);
        loop {
            let events = match self
                .history
                .feed(query.after, query.limit, &query.kinds)
                .await?
            {
                FeedRead::Purged => return Err(ServiceError::FeedPositionPurged),
                FeedRead::Events(events) => events,
            };
            // Negative once the deadline has passed: then nothing is left.
            let left = deadline
                .and_then(|deadline| (deadline - self.clock.now()).to_std().ok())
                .unwrap_or_default();
            if !events.is_empty() || left.is_zero() {
                let next = events.last().map(|event| event.position).or(query.after);
                return Ok(FeedPage { events, next });
            }
            self.history.await_events(left).await;
        }
    }

    async fn export(&self, customer_id: &str) -> Result<CustomerExport, ServiceError> {
        let id = parse_id(customer_id)?;
        for _ in 0..MAX_EXPORT_ATTEMPTS {
            let customer = Self::existing(&self.reads, &id).await?;
            let events = self.history(&id).await?;
            // A change that committed between the two reads left an event newer than the
            // customer read: read both again, so the export is one state with its history.
            if events
                .last()
                .is_none_or(|last| last.version <= customer.version)
            {
                return Ok(CustomerExport {
                    exported_at: self.clock.now(),
                    requests: requests_of(&events),
                    customer,
                    events,
                });
            }
        }
        Err(ServiceError::Unavailable(format!(
            "customer {id} kept changing during {MAX_EXPORT_ATTEMPTS} exports"
        )))
    }

    async fn erase(
        &self,
        customer_id: &str,
        reason: Option<String>,
    ) -> Result<Tombstone, ServiceError> {
        let id = parse_id(customer_id)?;
        let reason = ErasureReason::parse(reason.as_deref())?;
        let erased = self.store.erase(&id, reason).await?;
        // Also when there was no customer: an id deleted for good may still be in results
        // kept from before.
        self.search.forget_erased().await;
        found(erased)
    }
}

mod use_cases;
pub use use_cases::CustomerUseCases;
#[cfg(any(test, feature = "mock"))]
pub use use_cases::MockCustomerUseCases;

#[cfg(test)]
mod statistics_tests;
#[cfg(test)]
mod tests;
