//! The stop signal handed to every task of a run: once raised it stays raised; a task checks
//! it between steps and waits on it while idle.

use tokio::sync::watch;

/// Raises the stop signal (the supervisor's side).
#[derive(Debug)]
pub(crate) struct StopSender(watch::Sender<bool>);

/// One task's view of the stop signal.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

impl StopSender {
    /// A signal, not raised.
    pub fn new() -> Self {
        Self(watch::channel(false).0)
    }

    /// Raises it (idempotent).
    pub fn stop(&self) {
        self.0.send_replace(true);
    }

    /// A receiver for a task.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown(self.0.subscribe())
    }
}

impl Default for StopSender {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    /// Whether the stop signal was raised.
    pub(crate) fn is_shutdown(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once the stop signal is raised (at once if it already was).
    pub async fn recv(&mut self) {
        // An error means the sender is gone: nobody can stop us any more, so never resolve.
        if self.0.wait_for(|s| *s).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
