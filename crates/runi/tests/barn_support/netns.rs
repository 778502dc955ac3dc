//! A private network for a test cluster: each node in a network namespace
//! of its own, joined by veth pairs to a bridge that the test process (in
//! the root namespace) reaches every node through. A partition between two
//! nodes is a blackhole route to each other in both namespaces, so the
//! test's clients still reach every node while the nodes cannot reach
//! each other. Needs root and iproute2's `ip`.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// Networks made by this process, for unique names and subnets.
static NETWORKS: AtomicU32 = AtomicU32::new(0);

#[derive(Debug)]
pub struct Net {
    /// Prefix of every name (namespaces, links), short: links have 15 bytes.
    tag: String,
    /// The first three octets of the nodes' addresses.
    subnet: String,
    nodes: Vec<u64>,
}

/// Runs `ip ARGS`; panics with its stderr when it fails.
#[expect(
    clippy::disallowed_methods,
    reason = "the partition tests set up their network with iproute2"
)]
fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Net {
    /// Why this machine cannot make such a network, if it cannot.
    #[expect(
        clippy::disallowed_methods,
        reason = "probing for iproute2 and root before setting up namespaces"
    )]
    pub fn unavailable() -> Option<String> {
        let uid = Command::new("id").arg("-u").output().ok()?;
        if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
            return Some("not root (network namespaces need it; CI runs as root)".into());
        }
        match Command::new("ip").arg("-V").output() {
            Ok(out) if out.status.success() => None,
            _ => Some("iproute2's `ip` is missing (apt-get install iproute2)".into()),
        }
    }

    /// A bridge and one namespace per node, `1..=nodes`.
    pub fn create(nodes: u64) -> Self {
        let n = NETWORKS.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id() % 100_000;
        let tag = format!("rk{pid}{n}");
        let subnet = format!("10.{}.{}", 100 + n % 150, pid % 250);
        let net = Self {
            tag,
            subnet,
            nodes: (1..=nodes).collect(),
        };
        let bridge = net.bridge();
        ip(&["link", "add", &bridge, "type", "bridge"]);
        ip(&[
            "addr",
            "add",
            &format!("{}.254/24", net.subnet),
            "dev",
            &bridge,
        ]);
        ip(&["link", "set", &bridge, "up"]);
        for id in 1..=nodes {
            let ns = net.namespace(id);
            let host = format!("{}h{id}", net.tag);
            let inside = format!("{}n{id}", net.tag);
            ip(&["netns", "add", &ns]);
            ip(&[
                "link", "add", &host, "type", "veth", "peer", "name", &inside,
            ]);
            ip(&["link", "set", &inside, "netns", &ns]);
            ip(&["link", "set", &host, "master", &bridge, "up"]);
            let address = format!("{}/24", net.ip(id));
            ip(&["-n", &ns, "addr", "add", &address, "dev", &inside]);
            ip(&["-n", &ns, "link", "set", &inside, "up"]);
            ip(&["-n", &ns, "link", "set", "lo", "up"]);
        }
        net
    }

    fn bridge(&self) -> String {
        format!("{}b", self.tag)
    }

    pub fn namespace(&self, id: u64) -> String {
        format!("{}-{id}", self.tag)
    }

    pub fn ip(&self, id: u64) -> String {
        format!("{}.{id}", self.subnet)
    }

    /// Cuts `a` and `b` off from each other, both ways.
    pub fn cut(&self, a: u64, b: u64) {
        self.blackholes("add", a, b);
    }

    /// Undoes [`Net::cut`].
    pub fn mend(&self, a: u64, b: u64) {
        self.blackholes("del", a, b);
    }

    /// Adds or deletes (`action`) the routes that drop what `a` and `b`
    /// send each other.
    fn blackholes(&self, action: &str, a: u64, b: u64) {
        for (from, to) in [(a, b), (b, a)] {
            let (ns, target) = (self.namespace(from), self.ip(to));
            ip(&["-n", &ns, "route", action, "blackhole", &target]);
        }
    }

    /// Cuts `id` off from every other node (clients still reach it).
    pub fn isolate(&self, id: u64) {
        for other in self.nodes.iter().filter(|o| **o != id) {
            self.cut(id, *other);
        }
    }

    /// Undoes [`Net::isolate`].
    pub fn rejoin(&self, id: u64) {
        for other in self.nodes.iter().filter(|o| **o != id) {
            self.mend(id, *other);
        }
    }
}

impl Drop for Net {
    #[expect(
        clippy::disallowed_methods,
        reason = "removing the test's namespaces and bridge"
    )]
    fn drop(&mut self) {
        // Deleting a namespace deletes its end of the veth pair, and so
        // the pair; errors are ignored, as nothing depends on them.
        for id in &self.nodes {
            let _ = Command::new("ip")
                .args(["netns", "del", &self.namespace(*id)])
                .output();
        }
        let _ = Command::new("ip")
            .args(["link", "del", &self.bridge()])
            .output();
    }
}
