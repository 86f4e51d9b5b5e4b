//! The Lambda Runtime API invoker: a warm bootstrap process per lane that polls a Runtime API
//! server kinlocal runs for it ([`server`]: the 2018-06-01 routes; [`instance`]: the process,
//! its INIT, timeouts and restarts).

pub mod environment;
pub mod instance;
pub mod launch;
pub mod oneshot;
pub mod server;
