//! The Lambda Runtime API invoker: a warm bootstrap process per lane that polls a Runtime API
//! server kinlocal runs for it ([`server`]: the 2018-06-01 routes; [`instance`]: the process,
//! its INIT, timeouts and restarts).

pub mod environment;
pub mod instance;
pub mod launch;
pub mod oneshot;
pub mod reload;
pub mod server;

use std::sync::Arc;

/// What every lane's warm instance shares: how to start it, and where kinlocal's own lines go.
#[derive(Clone)]
pub(crate) struct RuntimeApiSettings {
    /// The bootstrap, its environment and working directory.
    pub instance: Arc<instance::InstanceSettings>,
    /// INIT lines, init errors, the address to use with `--runtime-api-only`.
    pub notes: Arc<dyn instance::NoteSink>,
    /// With `--watch`: the function's files; processes running older code are replaced
    /// between invocations.
    pub reload: Option<Arc<reload::CodeWatcher>>,
}

impl std::fmt::Debug for RuntimeApiSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeApiSettings")
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}
