//! hookseal: a webhook gateway between a self-hosted cal.com and its subscribers.
//!
//! An event's path through the gateway, one module a stage:
//! - [`config`]: the TOML file, its defaults and validation.
//! - [`server`]: the inbound listener, a serving thread per core, limits and shutdown.
//! - [`inbound`]: who may send: cal.com's own signature or a trusted network.
//! - [`enrich`]: cached metadata and reschedule lineage added to cal.com events.
//! - [`sign`]: each receiver's signature scheme over the outgoing bytes.
//! - [`upstream`]: the pooled HTTP(S) client that delivers to upstreams.
//! - [`event_id`]: the id each event carries to its receiver, the same on every retry.
//! - [`gateway`]: one request handled from route match to answer.
//! - [`deliver`]: one signed attempt, the retry policy, and the queue's workers.
//! - [`store`]: the metadata cache, the links and the queue, one file per backend.
//! - [`deliveries`]: the operator's view of stored events for the `deliveries` command.
//! - [`secret`]: the key newtype that never prints.
//! - [`error`]: helpers shared by the modules' error types.
//! - [`metrics`]: the Prometheus metrics the gateway and the workers count.
//! - [`admin`]: the admin listener: probes, `/metrics` and the token-protected delivery API.
//! - [`app`]: everything wired together, with SIGHUP reloads and SIGTERM shutdown.
//! - [`demo`]: the self-contained demonstration run.

pub mod admin;
pub mod app;
pub mod config;
pub mod deliver;
pub mod deliveries;
pub mod demo;
pub mod enrich;
pub mod error;
pub mod event_id;
pub mod gateway;
pub mod inbound;
pub mod metrics;
pub mod secret;
pub mod server;
pub mod sign;
pub mod store;
pub mod upstream;
