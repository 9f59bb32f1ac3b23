//! Several hosts on one dashboard: the linked hosts' agents connect to `GET /api/link`
//! (`accept`), the dashboard keeps each host's table, overview and log stream (`hosts`),
//! and serves them with a host dimension (`api`).

pub mod accept;
pub mod api;
pub mod hosts;
