//! The statistics object of `GET /api/v1/customers/statistics/overview`.

use domain::{CustomerStatistics, LocationCount};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use utoipa::ToSchema;

/// Counts by name, shown as a JSON object in the domain's order (largest first), as the
/// seed's original did with a Python dict.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CountMap(pub Vec<LocationCount>);

impl Serialize for CountMap {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for entry in &self.0 {
            map.serialize_entry(&entry.name, &entry.count)?;
        }
        map.end()
    }
}

/// The seed's statistics object.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StatisticsResponse {
    #[schema(example = 1250)]
    pub total_customers: u64,
    #[schema(example = 1180)]
    pub active_customers: u64,
    #[schema(example = 890)]
    pub verified_customers: u64,
    /// Created since 00:00 UTC today.
    #[schema(example = 15)]
    pub new_customers_today: u64,
    /// Created in the last 7 days.
    #[schema(example = 89)]
    pub new_customers_this_week: u64,
    /// Created in the last 30 days.
    #[schema(example = 234)]
    pub new_customers_this_month: u64,
    /// Customers per country, largest first.
    #[schema(value_type = HashMap<String, u64>, example = json!({"USA": 850, "Canada": 120}))]
    pub customers_by_country: CountMap,
    /// Customers per city, largest first.
    #[schema(value_type = HashMap<String, u64>, example = json!({"New York": 125}))]
    pub customers_by_city: CountMap,
    /// Mean age in years of customers with a date of birth; `null` when none has one.
    #[schema(example = 32.5)]
    pub average_customer_age: Option<f64>,
    /// Customers per gender.
    #[schema(value_type = HashMap<String, u64>, example = json!({"male": 620, "female": 580}))]
    pub gender_distribution: CountMap,
}

impl From<CustomerStatistics> for StatisticsResponse {
    fn from(s: CustomerStatistics) -> Self {
        Self {
            total_customers: s.total_customers,
            active_customers: s.active_customers,
            verified_customers: s.verified_customers,
            new_customers_today: s.new_customers_today,
            new_customers_this_week: s.new_customers_this_week,
            new_customers_this_month: s.new_customers_this_month,
            customers_by_country: CountMap(s.customers_by_country),
            customers_by_city: CountMap(s.customers_by_city),
            average_customer_age: s.average_customer_age,
            gender_distribution: CountMap(s.gender_distribution),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_map_is_an_object_in_the_domains_order() {
        let map = CountMap(vec![
            LocationCount {
                name: "USA".into(),
                count: 850,
            },
            LocationCount {
                name: "Canada".into(),
                count: 120,
            },
        ]);
        assert_eq!(
            serde_json::to_string(&map).unwrap(),
            r#"{"USA":850,"Canada":120}"#
        );
    }
}
