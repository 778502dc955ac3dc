//! A cluster of real `runi barn start` processes on loopback ports, for
//! the cluster and fault tests: start, kill -9, pause, resume and restart
//! nodes, find the leader, and talk to nodes through `BarnClient`.

#![allow(dead_code)] // each test file uses a part of it

mod netns;

pub use netns::Net;

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use runink_barn::cluster::{BarnClient, ClusterStatus, TlsFiles};

/// For a test that cannot partition nodes here (`why`): fails when
/// `RUNINK_REQUIRE_ISOLATION` is set (as `.ci/run` does), and otherwise
/// lets the test go on without partitions, saying so.
pub fn require_partitions(why: &str) {
    assert!(
        std::env::var_os("RUNINK_REQUIRE_ISOLATION").is_none(),
        "partitions are unavailable: {why}; RUNINK_REQUIRE_ISOLATION is set"
    );
    eprintln!("SKIPPED partitions: {why}");
}

/// The port every node listens on in its own namespace.
const NETNS_PORT: u16 = 7000;

/// How long a test waits for a cluster to agree on a leader.
pub const LEADER_WAIT_MS_MAX: u64 = 30_000;
/// How often a waiting test polls.
pub const POLL_MS: u64 = 50;
/// How long one client call may take before its outcome is unknown.
pub const CLIENT_TIMEOUT_MS: u64 = 2_000;

/// Loopback ports free when asked (held together, so they differ).
pub fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

/// `runi` with arguments, waited for.
#[expect(
    clippy::disallowed_methods,
    reason = "the cluster tests drive the runi under test as separate processes"
)]
pub fn runi(args: &[&str]) -> Output {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("runi"))
        .args(args)
        .output()
        .unwrap()
}

/// Sends `signal` (`STOP`, `CONT`) to `pid` with kill(1); the tests
/// forbid `unsafe`, so no libc call.
#[expect(
    clippy::disallowed_methods,
    reason = "pausing a node under test needs kill(1); it signals only processes this test started"
)]
pub fn signal(pid: u32, signal: &str) {
    let status = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} {pid} failed");
}

/// Certificates from `runi barn certs`, for a TLS cluster.
#[derive(Debug, Clone)]
pub struct Certs {
    pub dir: PathBuf,
}

impl Certs {
    pub fn make(dir: &Path, nodes: u64) -> Self {
        let out = runi(&[
            "barn",
            "certs",
            "--out",
            dir.to_str().unwrap(),
            "--nodes",
            &nodes.to_string(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self {
            dir: dir.to_owned(),
        }
    }

    pub fn files(&self, name: &str) -> TlsFiles {
        TlsFiles {
            ca: self.dir.join("ca.pem"),
            cert: self.dir.join(format!("{name}.pem")),
            key: self.dir.join(format!("{name}-key.pem")),
        }
    }

    pub fn args(&self, name: &str) -> Vec<String> {
        let files = self.files(name);
        vec![
            "--ca".into(),
            files.ca.display().to_string(),
            "--cert".into(),
            files.cert.display().to_string(),
            "--key".into(),
            files.key.display().to_string(),
        ]
    }
}

/// Nodes as processes. Dropping it kills every node it started.
#[derive(Debug)]
pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub ports: BTreeMap<u64, u16>,
    /// The `--peers` of the initial voters.
    peers: String,
    pub procs: BTreeMap<u64, Child>,
    pub certs: Option<Certs>,
    /// Arguments every node starts with.
    pub extra: Vec<String>,
    /// Each node in a network namespace of its own (`netns.rs`), or all
    /// on loopback.
    pub net: Option<Net>,
    /// `RUNINK_LOG` for every node, when set.
    pub log_filter: Option<String>,
}

impl Cluster {
    /// Ports for `total` nodes; the first `voters` form the cluster.
    pub fn new(voters: u64, total: u64, tls: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ports: BTreeMap<u64, u16> = (1..=total)
            .zip(free_ports(usize::try_from(total).unwrap()))
            .collect();
        let peers = (1..=voters)
            .map(|id| format!("{id}=127.0.0.1:{}", ports[&id]))
            .collect::<Vec<_>>()
            .join(",");
        let certs = tls.then(|| Certs::make(&dir.path().join("certs"), total));
        Self {
            dir,
            ports,
            peers,
            procs: BTreeMap::new(),
            certs,
            extra: Vec::new(),
            net: None,
            log_filter: None,
        }
    }

    /// As [`Cluster::new`] (plaintext), each node in a network namespace
    /// of its own, so that the test can partition them (`Net`).
    pub fn on_private_network(voters: u64, total: u64) -> Self {
        let net = Net::create(total);
        let mut cluster = Self::new(voters, total, false);
        cluster.peers = (1..=voters)
            .map(|id| format!("{id}={}:{NETNS_PORT}", net.ip(id)))
            .collect::<Vec<_>>()
            .join(",");
        cluster.net = Some(net);
        cluster
    }

    /// Starts the initial voters.
    pub fn start_voters(&mut self) {
        let voters: Vec<u64> = self
            .peers
            .split(',')
            .map(|p| p.split_once('=').unwrap().0.parse().unwrap())
            .collect();
        for id in voters {
            self.start(id);
        }
    }

    pub fn addr(&self, id: u64) -> String {
        match &self.net {
            Some(net) => format!("{}:{NETNS_PORT}", net.ip(id)),
            None => format!("127.0.0.1:{}", self.ports[&id]),
        }
    }

    pub fn url(&self, id: u64) -> String {
        let scheme = if self.certs.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr(id))
    }

    pub fn log(&self, id: u64) -> PathBuf {
        self.dir.path().join(format!("node-{id}.log"))
    }

    /// Starts node `id`: an initial voter with `--peers`, any other with
    /// `extra` (`--join …`, or nothing to wait for `runi barn add`).
    pub fn start_with(&mut self, id: u64, extra: &[String]) {
        let data = self.dir.path().join(format!("node-{id}"));
        let mut args = vec![
            "barn".to_owned(),
            "start".into(),
            "--id".into(),
            id.to_string(),
            "--listen".into(),
            self.addr(id),
            "--data".into(),
            data.display().to_string(),
        ];
        match &self.certs {
            Some(certs) => args.extend(certs.args(&format!("node-{id}"))),
            None => args.push("--insecure".into()),
        }
        args.extend(self.extra.iter().cloned());
        args.extend(extra.iter().cloned());
        let child = self.spawn(id, &args);
        self.procs.insert(id, child);
    }

    pub fn start(&mut self, id: u64) {
        self.start_as(id, &[]);
    }

    /// Starts node `id` as [`Cluster::start`] does, with `more` arguments.
    pub fn start_as(&mut self, id: u64, more: &[&str]) {
        let is_voter = self
            .peers
            .split(',')
            .any(|p| p.starts_with(&format!("{id}=")));
        let mut args = Vec::new();
        if is_voter {
            args.extend(["--peers".to_owned(), self.peers.clone()]);
        }
        args.extend(more.iter().map(|a| (*a).to_owned()));
        self.start_with(id, &args);
    }

    #[expect(
        clippy::disallowed_methods,
        reason = "a cluster node is the runi under test running as its own process"
    )]
    fn spawn(&self, id: u64, args: &[String]) -> Child {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log(id))
            .unwrap();
        // Each node's own state folder (its agent's masking keys).
        let home = self.dir.path().join(format!("home-{id}"));
        let runi = assert_cmd::cargo::cargo_bin("runi");
        // `ip netns exec` execs runi in the node's namespace: the child is
        // runi itself, so signals reach it.
        let mut command = match &self.net {
            Some(net) => {
                let mut c = std::process::Command::new("ip");
                c.args(["netns", "exec", &net.namespace(id)]).arg(runi);
                c
            }
            None => std::process::Command::new(runi),
        };
        if let Some(filter) = &self.log_filter {
            command.env("RUNINK_LOG", filter);
        }
        command
            .args(args)
            .env("RUNINK_HOME", home)
            .env_remove("RUNINK_MASK_SALT")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap()
    }

    /// kill -9, and reap it.
    pub fn kill9(&mut self, id: u64) {
        if let Some(mut child) = self.procs.remove(&id) {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// SIGTERM, and wait for a clean exit.
    pub fn stop(&mut self, id: u64) {
        if let Some(mut child) = self.procs.remove(&id) {
            signal(child.id(), "TERM");
            let status = child.wait().unwrap();
            assert!(status.success(), "node {id} stopped with {status}");
        }
    }

    pub fn pause(&self, id: u64) {
        signal(self.procs[&id].id(), "STOP");
    }

    pub fn resume(&self, id: u64) {
        signal(self.procs[&id].id(), "CONT");
    }

    pub fn client(&self, id: u64) -> BarnClient {
        let tls = self.certs.as_ref().map(|c| c.files("client"));
        BarnClient::new(&self.url(id), tls.as_ref(), CLIENT_TIMEOUT_MS).unwrap()
    }

    /// Every running node's status, or `None` for one that did not answer.
    pub async fn statuses(&self) -> BTreeMap<u64, Option<ClusterStatus>> {
        let mut all = BTreeMap::new();
        for id in self.procs.keys() {
            all.insert(*id, self.client(*id).status().await.ok());
        }
        all
    }

    /// Waits until every node in `among` names the same leader, itself
    /// among them, and returns it. Panics past `LEADER_WAIT_MS_MAX`,
    /// printing the nodes' logs.
    pub async fn leader_among(&self, among: &[u64]) -> u64 {
        let deadline = Instant::now() + Duration::from_millis(LEADER_WAIT_MS_MAX);
        loop {
            let mut leaders = Vec::new();
            for id in among {
                leaders.push(self.client(*id).status().await.ok().and_then(|s| s.leader));
            }
            if let Some(Some(leader)) = leaders.first()
                && among.contains(leader)
                && leaders.iter().all(|l| *l == Some(*leader))
            {
                return *leader;
            }
            assert!(
                Instant::now() < deadline,
                "no agreed leader among {among:?} within {LEADER_WAIT_MS_MAX} ms: {leaders:?}\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(POLL_MS)).await;
        }
    }

    pub async fn leader(&self) -> u64 {
        let running: Vec<u64> = self.procs.keys().copied().collect();
        self.leader_among(&running).await
    }

    /// Every node's log, for a failure message.
    pub fn logs(&self) -> String {
        self.ports
            .keys()
            .map(|id| {
                let text = std::fs::read_to_string(self.log(*id)).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(20).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                format!("--- node {id}\n{}", tail.join("\n"))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in self.procs.values_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
