//! What a server owner operates with besides the API: the health endpoint, Prometheus
//! metrics and backups of the catalog.

pub mod backup;
pub mod health;
pub mod metrics;
