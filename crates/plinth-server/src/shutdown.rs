//! One shutdown signal for the whole replica: the serve loop stops accepting and drains, and
//! the worker loops stop claiming and hand their jobs back (`Store::release_job`), all on the
//! same trigger.

use tokio::sync::watch;

/// A cloneable shutdown signal. `trigger` once (a signal handler, a test); everyone holding a
/// clone sees it through `is_triggered` or `triggered().await`.
#[derive(Debug, Clone)]
pub struct Shutdown {
    sender: std::sync::Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    /// A signal not yet triggered.
    pub fn new() -> Self {
        Shutdown {
            sender: std::sync::Arc::new(watch::channel(false).0),
        }
    }

    /// Starts the shutdown (idempotent).
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    /// Whether shutdown has started: a worker checks it before each claim.
    pub fn is_triggered(&self) -> bool {
        *self.sender.borrow()
    }

    /// Resolves once shutdown has started: for `tokio::select!` in a worker loop (stop waiting
    /// for work, release the job in hand) or around a long step.
    pub async fn triggered(&self) {
        let mut receiver = self.sender.subscribe();
        // Errors only when the sender is dropped, which the Arc held by `self` prevents.
        let _ = receiver.wait_for(|started| *started).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_clone_sees_the_trigger() {
        let shutdown = Shutdown::new();
        let worker = shutdown.clone();
        assert!(!worker.is_triggered());
        let waiter = tokio::spawn(async move { worker.triggered().await });
        shutdown.trigger();
        waiter.await.unwrap();
        assert!(shutdown.is_triggered());
        // Late subscribers return at once.
        shutdown.triggered().await;
    }
}
