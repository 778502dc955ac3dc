//! `runi barn start|status|add|remove|certs|herd`: cluster mode of the Barn.
//! `start` runs a node until SIGINT or SIGTERM; the others call a node's
//! REST API (`runink_barn::cluster::BarnClient`); `certs` writes a
//! development CA and certificates (docs/barn-cluster.md).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::{Context, anyhow};
use runink_barn::cluster::{
    AddMember, BarnClient, ClusterNode, ClusterOptions, ClusterStatus, development_certs,
};
use runink_barn::{Applied, BarnOptions, ClientId, Command, Request, RequestId, unix_now_ms};

use runink_model::HerdName;

use crate::agent::Agent;
use crate::barn_client::{
    self, api_failure, barn_failure, client_runtime, tls_files, write_retrying,
};
use crate::cli::{
    BarnAddArgs, BarnCertsArgs, BarnCommand, BarnHerdArgs, BarnRemoveArgs, BarnServerArgs,
    BarnStartArgs, GlobalOptions,
};
use crate::exit::{Exit, Failure, Outcome};
use crate::output::print_json;
use crate::state_dir::state_dir;

pub fn barn(global: &GlobalOptions, command: &BarnCommand) -> Outcome {
    match command {
        BarnCommand::Start(args) => start(global, args),
        BarnCommand::Status(args) => status(global, args),
        BarnCommand::Add(args) => add(global, args),
        BarnCommand::Remove(args) => remove(global, args),
        BarnCommand::Certs(args) => certs(global, args),
        BarnCommand::Herd(args) => herd(global, args),
    }
}

/// A node's runtime: `workers` async threads, and tokio's blocking pool.
fn node_runtime(workers: usize) -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .map_err(Failure::infra)
}

/// `ID=HOST:PORT` pairs into a map; duplicates and bad ids are errors.
fn parse_peers(peers: &[String]) -> anyhow::Result<BTreeMap<u64, String>> {
    let mut map = BTreeMap::new();
    for peer in peers {
        let (id, addr) = peer
            .split_once('=')
            .ok_or_else(|| anyhow!("`--peers {peer}`: expected ID=HOST:PORT"))?;
        let id: u64 = id
            .parse()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| anyhow!("`--peers {peer}`: `{id}` is not a node id (1 or more)"))?;
        if !runink_barn::cluster::is_host_port(addr) {
            anyhow::bail!(
                "`--peers {peer}`: `{addr}` is not HOST:PORT (a host, and a port from 1 to 65535)"
            );
        }
        if map.insert(id, addr.to_owned()).is_some() {
            anyhow::bail!("`--peers` names node `{id}` twice");
        }
    }
    Ok(map)
}

fn start(global: &GlobalOptions, args: &BarnStartArgs) -> Outcome {
    let peers = parse_peers(&args.peers).map_err(Failure::usage)?;
    let tls = tls_files(&args.tls);
    if tls.is_none() && !args.insecure {
        return Err(Failure::usage(anyhow!(
            "give certificates (`--ca`, `--cert`, `--key`; `runi barn certs` makes development ones) or run in plaintext with `--insecure`"
        )));
    }
    if peers.is_empty() && args.join.is_none() && !args.data.join("barn.redb").exists() {
        tracing::warn!(
            "no `--peers` and no `--join`: this node waits to be added with `runi barn add`"
        );
    }
    let options = ClusterOptions {
        id: args.id,
        listen: args.listen.clone(),
        peers,
        join: args.join.clone(),
        data: args.data.clone(),
        tls,
        storage: BarnOptions {
            snapshot_logs_since_last: args.snapshot_logs,
            logs_kept_after_snapshot: args.logs_kept_after_snapshot,
            ..BarnOptions::default()
        },
        timing: Default::default(),
        limits: Default::default(),
        batching: Default::default(),
        agent: !args.no_agent,
        placing: Default::default(),
    };
    // The agent's masking keys: the state folder of this machine.
    let state = if args.no_agent {
        None
    } else {
        Some(state_dir().map_err(Failure::infra)?)
    };
    let runtime = node_runtime(args.worker_threads as usize)?;
    runtime.block_on(async {
        let node = ClusterNode::start(options).await.map_err(barn_failure)?;
        let agent = state
            .map(|state| Agent::start(node.handle(), tokio::runtime::Handle::current(), state))
            .transpose()
            .context("cannot start the agent's thread")
            .map_err(Failure::infra)?;
        if !global.quiet {
            let with = if agent.is_some() { "with" } else { "without" };
            eprintln!(
                "barn node {} serving on {} ({with} an agent)",
                node.id(),
                node.local_addr()
            );
        }
        wait_for_stop().await.map_err(Failure::infra)?;
        if let Some(agent) = agent {
            // Joining blocks: the run in hand ends first.
            tokio::task::spawn_blocking(move || agent.stop())
                .await
                .context("the agent did not stop")
                .map_err(Failure::infra)?;
        }
        node.stop().await.map_err(barn_failure)?;
        Ok(Exit::Ok)
    })
}

/// Waits for SIGINT or SIGTERM.
async fn wait_for_stop() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted.context("cannot watch SIGINT"),
        _ = terminate.recv() => Ok(()),
    }
}

fn client(args: &BarnServerArgs) -> Result<BarnClient, Failure> {
    barn_client::client(&args.server, &args.tls)
}

fn status(global: &GlobalOptions, args: &BarnServerArgs) -> Outcome {
    let client = client(args)?;
    let status = client_runtime()?
        .block_on(client.status())
        .map_err(api_failure)?;
    if global.json {
        print_json(&status).map_err(Failure::infra)?;
    } else {
        out!("{}", status_text(&status));
    }
    Ok(Exit::Ok)
}

fn index(index: Option<u64>) -> String {
    index.map_or_else(|| "-".into(), |i| i.to_string())
}

fn status_text(s: &ClusterStatus) -> String {
    let mut out = String::new();
    let leader = s.leader.map_or_else(|| "none".into(), |l| l.to_string());
    let _ = writeln!(
        out,
        "node {} ({}), leader {leader}, term {}",
        s.id, s.state, s.term
    );
    let _ = writeln!(
        out,
        "log: last {}, committed {}, applied {}, snapshot {}, purged {}",
        index(s.last_log_index),
        index(s.committed_index),
        index(s.applied_index),
        index(s.snapshot_index),
        index(s.purged_index)
    );
    let _ = writeln!(out, "members:");
    for m in &s.members {
        let role = if m.voter { "voter" } else { "learner" };
        let _ = writeln!(out, "  {} {} {role}", m.id, m.addr);
    }
    if !s.followers.is_empty() {
        let _ = writeln!(out, "followers:");
        for f in &s.followers {
            let _ = writeln!(
                out,
                "  {} matched {} lag {}",
                f.id,
                index(f.matched_index),
                f.lag
            );
        }
    }
    out
}

fn add(global: &GlobalOptions, args: &BarnAddArgs) -> Outcome {
    if args.id == 0 {
        return Err(Failure::usage(anyhow!("`--id 0`: a node id is at least 1")));
    }
    let client = client(&args.server)?;
    let add = AddMember {
        id: args.id,
        addr: args.addr.clone(),
    };
    client_runtime()?
        .block_on(client.add_member(&add))
        .map_err(api_failure)?;
    if global.json {
        print_json(&serde_json::json!({ "node": args.id, "addr": args.addr, "member": "voter" }))
            .map_err(Failure::infra)?;
    } else if !global.quiet {
        eprintln!("node {} added as a voter", args.id);
    }
    Ok(Exit::Ok)
}

fn remove(global: &GlobalOptions, args: &BarnRemoveArgs) -> Outcome {
    let client = client(&args.server)?;
    client_runtime()?
        .block_on(client.remove_member(args.id))
        .map_err(api_failure)?;
    if global.json {
        print_json(&serde_json::json!({ "node": args.id, "member": "removed" }))
            .map_err(Failure::infra)?;
    } else if !global.quiet {
        eprintln!("node {} removed", args.id);
    }
    Ok(Exit::Ok)
}

/// Creates a herd on the cluster; one that exists already is left as it is.
fn herd(global: &GlobalOptions, args: &BarnHerdArgs) -> Outcome {
    let herd = HerdName::new(&args.name)
        .map_err(|e| Failure::usage(anyhow!("`{}` cannot name a herd: {e}", args.name)))?;
    let client = client(&args.server)?;
    let request = Request::new(
        RequestId::new(ClientId::fresh(), 1),
        Command::PutHerd {
            herd,
            at_ms: unix_now_ms(),
        },
    );
    let outcome = client_runtime()?
        .block_on(write_retrying(|| client.write(&request)))
        .map_err(api_failure)?;
    let created = match outcome {
        Ok(Applied::HerdPut { created }) => created,
        Ok(other) => {
            return Err(Failure::infra(anyhow!(
                "the barn answered a new herd with `{other:?}`; this is a bug"
            )));
        }
        Err(refusal) => {
            return Err(Failure::usage(anyhow!(
                "the barn at `{}` refused the herd: {refusal}",
                client.url()
            )));
        }
    };
    if global.json {
        print_json(&serde_json::json!({ "herd": args.name, "created": created }))
            .map_err(Failure::infra)?;
    } else if !global.quiet {
        let done = if created { "created" } else { "exists already" };
        eprintln!("herd `{}` {done}", args.name);
    }
    Ok(Exit::Ok)
}

/// An IP address, or a DNS name (labels of ASCII letters, digits and `-`,
/// not starting or ending with `-`; a leading `*.` for a wildcard).
fn is_host_name(host: &str) -> bool {
    if host.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let name = host.strip_prefix("*.").unwrap_or(host);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

fn certs(global: &GlobalOptions, args: &BarnCertsArgs) -> Outcome {
    if args.nodes == 0 || args.hosts.iter().any(String::is_empty) {
        return Err(Failure::usage(anyhow!(
            "`--nodes` is at least 1 and `--hosts` names no empty host"
        )));
    }
    // A certificate is for names a client can reach: an IP address, or a
    // DNS name of letters, digits, `-` and `.` (`*.` in front for a wildcard).
    if let Some(bad) = args.hosts.iter().find(|host| !is_host_name(host)) {
        return Err(Failure::usage(anyhow!(
            "`--hosts {bad}` is neither an IP address nor a host name (letters, digits, `-`, `.`)"
        )));
    }
    let issued = development_certs(args.nodes, &args.hosts).map_err(barn_failure)?;
    fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create `{}`", args.out.display()))
        .map_err(Failure::infra)?;
    for cert in &issued {
        write_file(
            &args.out.join(format!("{}.pem", cert.name)),
            &cert.cert_pem,
            false,
        )?;
        write_file(
            &args.out.join(format!("{}-key.pem", cert.name)),
            &cert.key_pem,
            true,
        )?;
    }
    if global.json {
        let files: Vec<String> = issued
            .iter()
            .flat_map(|cert| {
                [
                    format!("{}.pem", cert.name),
                    format!("{}-key.pem", cert.name),
                ]
            })
            .collect();
        print_json(&serde_json::json!({ "folder": args.out, "files": files }))
            .map_err(Failure::infra)?;
    } else if !global.quiet {
        eprintln!(
            "wrote a development CA, {} node certificate{} and a client certificate to `{}`",
            args.nodes,
            if args.nodes == 1 { "" } else { "s" },
            args.out.display()
        );
    }
    Ok(Exit::Ok)
}

/// Writes `text` to `path`, refusing to overwrite; keys are mode 0600.
fn write_file(path: &Path, text: &str, secret: bool) -> Result<(), Failure> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    if secret {
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create `{}` (it must not exist yet)", path.display()))
        .map_err(Failure::usage)?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write `{}`", path.display()))
        .map_err(Failure::infra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_ip_addresses_or_dns_names() {
        for good in [
            "localhost",
            "node-1.example.com",
            "127.0.0.1",
            "::1",
            "*.barn.local",
        ] {
            assert!(is_host_name(good), "{good}");
        }
        for bad in ["bad host!", "-x", "a..b", "x-", "é.com", "*."] {
            assert!(!is_host_name(bad), "{bad}");
        }
    }
}
