//! Talking to a Barn cluster from the command line: the client for
//! `--server URL` with its certificates, the run history it reads, and how
//! the cluster's errors become exit codes.

use anyhow::Context;
use runink_barn::cluster::{ApiError, ApiErrorKind, BarnClient, Consistency, TlsFiles};
use runink_barn::{BarnError, Outcome};

use crate::cli::{HistoryArgs, TlsArgs};
use crate::exit::Failure;
use crate::ledger::{RemoteHistory, RunHistory, local_ledger};
use crate::state_dir::state_dir;

/// How long one call to a node waits for its answer.
pub const CLIENT_TIMEOUT_MS: u64 = 60_000;

pub fn tls_files(args: &TlsArgs) -> Option<TlsFiles> {
    match (&args.ca, &args.cert, &args.key) {
        (Some(ca), Some(cert), Some(key)) => Some(TlsFiles {
            ca: ca.clone(),
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => None,
    }
}

/// A client for the node at `server`; a bad URL, or https without
/// certificates, is the user's to fix.
pub fn client(server: &str, tls: &TlsArgs) -> Result<BarnClient, Failure> {
    BarnClient::new(server, tls_files(tls).as_ref(), CLIENT_TIMEOUT_MS).map_err(barn_failure)
}

/// The runtime a command's calls to a cluster run on.
pub fn client_runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime for the barn client")
        .map_err(Failure::infra)
}

/// The runs of the cluster at `--server` (read from a quorum, or from the
/// node alone with `--stale`), or of the local state folder.
pub fn history(args: &HistoryArgs) -> Result<Box<dyn RunHistory>, Failure> {
    let remote = &args.remote;
    match &remote.server {
        Some(server) => {
            let client = client(server, &remote.tls)?;
            let consistency = if args.stale {
                Consistency::Stale
            } else {
                Consistency::Linearizable
            };
            Ok(Box::new(RemoteHistory::new(
                client,
                client_runtime()?,
                consistency,
            )))
        }
        None => {
            let state = state_dir().map_err(Failure::infra)?;
            Ok(Box::new(local_ledger(&state).map_err(Failure::usage)?))
        }
    }
}

pub fn barn_failure(error: BarnError) -> Failure {
    match error {
        BarnError::Config(_) | BarnError::Tls { .. } => Failure::usage(error),
        other => Failure::infra(other),
    }
}

pub fn api_failure(error: ApiError) -> Failure {
    if is_users(error.kind) {
        Failure::usage(error)
    } else {
        Failure::infra(error)
    }
}

/// A failure to read runs (`runi runs|status|logs`), mapped as
/// [`api_failure`] maps the Barn's answer when there is one: a request the
/// Barn refused is the user's to change, whichever command sent it.
pub fn history_failure(error: anyhow::Error) -> Failure {
    let refused = error
        .chain()
        .find_map(|cause| cause.downcast_ref::<ApiError>())
        .is_some_and(|api| is_users(api.kind));
    if refused {
        Failure::usage(error)
    } else {
        Failure::infra(error)
    }
}

/// Whether an answer of this kind asks the user to change the request.
fn is_users(kind: ApiErrorKind) -> bool {
    match kind {
        ApiErrorKind::BadRequest | ApiErrorKind::NotFound | ApiErrorKind::Forbidden => true,
        ApiErrorKind::Unavailable | ApiErrorKind::Indeterminate | ApiErrorKind::Internal => false,
    }
}

/// How many times a write to a cluster is tried while the cluster answers
/// `unavailable` (an election) or cannot say whether it applied.
pub const WRITE_ATTEMPTS_MAX: u32 = 150;
/// The wait between two tries: with the bound above, 30 s in all.
pub const WRITE_RETRY_MS: u64 = 200;
/// Longest a write is tried, all tries together. A node that stopped
/// answering (paused, partitioned) would otherwise hold each try for the
/// connection's own timeout, and the command for hours.
pub const WRITE_TRYING_MS_MAX: u64 = 30_000;

/// Sends one request until the cluster answers it: `write` is called again
/// (with the same request, so that it applies once) while the error is
/// `unavailable` or `indeterminate`, up to [`WRITE_ATTEMPTS_MAX`] times and
/// [`WRITE_TRYING_MS_MAX`] in all.
pub async fn write_retrying<F, Fut>(mut write: F) -> Result<Outcome, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Outcome, ApiError>>,
{
    let pause = std::time::Duration::from_millis(WRITE_RETRY_MS);
    let deadline =
        tokio::time::Instant::now() + std::time::Duration::from_millis(WRITE_TRYING_MS_MAX);
    let mut attempt = 1;
    loop {
        let answered = match tokio::time::timeout_at(deadline, write()).await {
            Ok(answered) => answered,
            Err(_) => {
                return Err(ApiError::indeterminate(format!(
                    "the cluster did not answer within {} s ({attempt} tries); the write may or may not have been applied",
                    WRITE_TRYING_MS_MAX / 1000
                )));
            }
        };
        match answered {
            Err(e)
                if attempt < WRITE_ATTEMPTS_MAX
                    && tokio::time::Instant::now() + pause < deadline
                    && matches!(
                        e.kind,
                        ApiErrorKind::Unavailable | ApiErrorKind::Indeterminate
                    ) =>
            {
                tracing::debug!("write not answered (try {attempt}), will retry: {e}");
                attempt += 1;
                tokio::time::sleep(pause).await;
            }
            answered => return answered,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_write_never_answered_gives_up_at_the_bound_saying_it_may_have_applied() {
        let started = tokio::time::Instant::now();
        let error = write_retrying(std::future::pending).await.unwrap_err();
        assert_eq!(error.kind, ApiErrorKind::Indeterminate);
        assert!(error.message.contains("may or may not"), "{error}");
        assert_eq!(
            started.elapsed(),
            Duration::from_millis(WRITE_TRYING_MS_MAX)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_election_is_waited_out_within_the_bound() {
        let tries = Cell::new(0u32);
        let started = tokio::time::Instant::now();
        let error = write_retrying(|| {
            tries.set(tries.get() + 1);
            std::future::ready(Err(ApiError::new(ApiErrorKind::Unavailable, "election")))
        })
        .await
        .unwrap_err();
        assert_eq!(error.kind, ApiErrorKind::Unavailable);
        assert!(
            tries.get() > 100 && tries.get() <= WRITE_ATTEMPTS_MAX,
            "{}",
            tries.get()
        );
        assert!(started.elapsed() < Duration::from_millis(WRITE_TRYING_MS_MAX));
    }
}
