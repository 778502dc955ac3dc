//! Cluster mode through the real binary: three `runi barn start` processes
//! on loopback ports elect a leader, take writes through a follower, serve
//! linearizable and stale reads on every node, add and remove nodes, and
//! recover after kill -9; the same over mutual TLS; and bad input.

#![allow(clippy::unwrap_used)] // test fixtures: a failure here is a broken test

mod barn_support;

use std::time::{Duration, Instant};

use barn_support::{Cluster, POLL_MS, runi};
use runink_barn::cluster::{ApiErrorKind, BarnClient, Consistency, OPENAPI_PATHS};
use runink_barn::{Applied, ClientId, Command, NodeId, Request, RequestId};
use serde_json::Value;

/// How long a restarted node may take to catch up.
const CATCH_UP_WAIT_MS_MAX: u64 = 30_000;

/// A register for the tests: the address of a made-up node.
const KEY: u64 = 1_000_001;

fn set(client: u64, seq: u64, value: &str) -> Request {
    Request::new(
        RequestId::new(ClientId(client), seq),
        Command::RegisterNode {
            node: NodeId(KEY),
            addr: value.into(),
            agent: false,
            at_ms: 0,
        },
    )
}

async fn read(client: &BarnClient, consistency: Consistency) -> Option<String> {
    client
        .node(NodeId(KEY), consistency)
        .await
        .unwrap()
        .map(|n| n.addr)
}

fn status_json(cluster: &Cluster, id: u64) -> Value {
    let mut args = vec!["--json".to_owned(), "barn".into(), "status".into()];
    args.extend(["--server".into(), cluster.url(id)]);
    if let Some(certs) = &cluster.certs {
        args.extend(certs.args("client"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = runi(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The ids of the members node `id` reports.
fn member_ids(cluster: &Cluster, id: u64) -> Vec<u64> {
    status_json(cluster, id)["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_u64().unwrap())
        .collect()
}

/// The ids of the voters node `id` reports.
fn voter_ids(cluster: &Cluster, id: u64) -> Vec<u64> {
    status_json(cluster, id)["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["voter"] == true)
        .map(|m| m["id"].as_u64().unwrap())
        .collect()
}

/// Polls node `id`'s status until its voters are `want`: a node that
/// joins is a learner, already following the leader, until the leader
/// promotes it.
async fn wait_for_voters(cluster: &Cluster, id: u64, want: &[u64]) {
    let deadline = Instant::now() + Duration::from_millis(CATCH_UP_WAIT_MS_MAX);
    loop {
        let voters = voter_ids(cluster, id);
        if voters == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "node {id} reports the voters {voters:?}, not {want:?}\n{}",
            cluster.logs()
        );
        tokio::time::sleep(Duration::from_millis(POLL_MS)).await;
    }
}

/// Polls node `id`'s stale reads until it holds `want`.
async fn wait_for_value(cluster: &Cluster, id: u64, want: &str) {
    let deadline = Instant::now() + Duration::from_millis(CATCH_UP_WAIT_MS_MAX);
    loop {
        let seen = cluster
            .client(id)
            .node(NodeId(KEY), Consistency::Stale)
            .await;
        if let Ok(Some(node)) = &seen
            && node.addr == want
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "node {id} did not catch up to `{want}`: {seen:?}\n{}",
            cluster.logs()
        );
        tokio::time::sleep(Duration::from_millis(POLL_MS)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_elect_take_writes_through_a_follower_and_read_on_every_node() {
    let mut cluster = Cluster::new(3, 3, false);
    cluster.start_voters();
    let leader = cluster.leader().await;
    let follower = (1..=3).find(|id| *id != leader).unwrap();

    let outcome = cluster
        .client(follower)
        .write(&set(7, 1, "a"))
        .await
        .unwrap();
    assert_eq!(outcome, Ok(Applied::NodeRegistered { created: true }));
    // The same request again is a retry: the first outcome, applied once.
    let again = cluster.client(leader).write(&set(7, 1, "a")).await.unwrap();
    assert_eq!(again, outcome);

    for id in 1..=3 {
        let client = cluster.client(id);
        assert_eq!(
            read(&client, Consistency::Linearizable).await.as_deref(),
            Some("a")
        );
        // After a linearizable read, this node has applied the write.
        assert_eq!(
            read(&client, Consistency::Stale).await.as_deref(),
            Some("a")
        );
    }

    // Each node records itself (id and address) once a leader takes it.
    let deadline = Instant::now() + Duration::from_millis(CATCH_UP_WAIT_MS_MAX);
    for id in 1..=3 {
        loop {
            let record = cluster
                .client(leader)
                .node(NodeId(id), Consistency::Linearizable)
                .await;
            if let Ok(Some(node)) = &record {
                assert_eq!(node.addr, cluster.url(id).trim_start_matches("http://"));
                break;
            }
            assert!(
                Instant::now() < deadline,
                "node {id} did not record itself: {record:?}\n{}",
                cluster.logs()
            );
            tokio::time::sleep(Duration::from_millis(POLL_MS)).await;
        }
    }

    let status = status_json(&cluster, follower);
    assert_eq!(status["id"], follower);
    assert_eq!(status["leader"], leader);
    assert_eq!(status["members"].as_array().unwrap().len(), 3);
    assert!(status["committed_index"].as_u64().unwrap() >= 2);
    let followers = status["followers"].as_array().unwrap();
    assert_eq!(followers.len(), 2, "{status}");
    assert!(
        followers
            .iter()
            .all(|f| f["id"] != leader && f["lag"].is_u64())
    );

    let text = runi(&["barn", "status", "--server", &cluster.url(leader)]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.starts_with(&format!("node {leader} (leader), leader {leader}")),
        "{text}"
    );

    // The OpenAPI document lists exactly the routes served.
    let doc = cluster
        .client(follower)
        .get_json("/openapi.json")
        .await
        .unwrap();
    let mut listed: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = OPENAPI_PATHS.to_vec();
    listed.sort_unstable();
    expected.sort_unstable();
    assert_eq!(listed, expected);
    let runs = cluster
        .client(follower)
        .get_json("/v1/runs?consistency=stale")
        .await
        .unwrap();
    assert_eq!(runs, serde_json::json!([]));
    let missing = cluster
        .client(leader)
        .get_json("/v1/runs/9")
        .await
        .unwrap_err();
    assert_eq!(missing.kind, ApiErrorKind::NotFound);

    // Whatever the API cannot take, it answers with its JSON error, with a
    // status that says why.
    let addr = cluster.url(leader).trim_start_matches("http://").to_owned();
    for (request, status) in [
        (
            "POST /v1/requests HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: 5\r\n\r\n{nope",
            400,
        ),
        (
            "POST /v1/requests HTTP/1.1\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\n{}",
            415,
        ),
        (
            "POST /v1/members HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: 10\r\n\r\n{\"id\":\"x\"}",
            422,
        ),
        ("GET /v1/runs/notanumber HTTP/1.1\r\n\r\n", 400),
        ("GET /v1/runs?limit=-1 HTTP/1.1\r\n\r\n", 400),
        ("GET /v1/nosuchroute HTTP/1.1\r\n\r\n", 404),
        ("DELETE /v1/status HTTP/1.1\r\n\r\n", 405),
    ] {
        let (code, body) = raw_http(&addr, request);
        assert_eq!(code, status, "{request}: {body}");
        let error: Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{request}: not JSON ({e}): {body}"));
        assert!(
            error["kind"].is_string() && error["message"].is_string(),
            "{request}: {body}"
        );
    }
}

/// Sends one raw HTTP/1.1 request (with `connection: close` added) and
/// returns the status code and the body.
fn raw_http(addr: &str, request: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (head, body) = request.split_once("\r\n\r\n").unwrap();
    let request = format!("{head}\r\nhost: {addr}\r\nconnection: close\r\n\r\n{body}");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let code = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (code, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_share_log_entries_and_each_applies_once() {
    const WRITERS: u64 = 64;
    let mut cluster = Cluster::new(3, 3, false);
    cluster.start_voters();
    let leader = cluster.leader().await;
    let before = cluster
        .client(leader)
        .status()
        .await
        .unwrap()
        .last_log_index;

    // Each writer is its own client on its own connection, through every
    // node (followers forward to the leader).
    let writes = (0..WRITERS).map(|i| {
        let client = cluster.client(i % 3 + 1);
        tokio::spawn(async move {
            let request = Request::new(
                RequestId::new(ClientId(100 + i), 1),
                Command::RegisterNode {
                    node: NodeId(KEY + 1 + i),
                    addr: format!("w{i}"),
                    agent: false,
                    at_ms: 0,
                },
            );
            client.write(&request).await
        })
    });
    let outcomes = join_all(writes.collect()).await;
    for outcome in outcomes {
        assert_eq!(outcome, Ok(Ok(Applied::NodeRegistered { created: true })));
    }

    let after = cluster
        .client(leader)
        .status()
        .await
        .unwrap()
        .last_log_index;
    let entries = after.unwrap_or(0) - before.unwrap_or(0);
    assert!(
        entries < WRITERS,
        "{WRITERS} concurrent writes took {entries} log entries: they were not batched"
    );
    for i in 0..WRITERS {
        let node = cluster
            .client(i % 3 + 1)
            .node(NodeId(KEY + 1 + i), Consistency::Linearizable)
            .await
            .unwrap();
        assert_eq!(node.map(|n| n.addr), Some(format!("w{i}")));
    }
}

/// Waits for every task, in order.
async fn join_all<T: std::fmt::Debug>(
    tasks: Vec<tokio::task::JoinHandle<Result<T, runink_barn::cluster::ApiError>>>,
) -> Vec<Result<T, ApiErrorKind>> {
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await.unwrap().map_err(|e| e.kind));
    }
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_are_added_as_learners_then_voters_and_removed() {
    let mut cluster = Cluster::new(3, 5, false);
    cluster.start_voters();
    cluster.leader().await;
    cluster
        .client(1)
        .write(&set(8, 1, "before"))
        .await
        .unwrap()
        .unwrap();

    // A node nothing answers for is not made a voter that every quorum
    // would then wait for; nor is a voter moved by adding it again.
    let add = |url: String, id: &str, addr: &str| {
        runi(&["barn", "add", "--server", &url, "--id", id, "--addr", addr])
    };
    let unreachable = add(cluster.url(1), "6", "127.0.0.1:9");
    let stderr = String::from_utf8_lossy(&unreachable.stderr).into_owned();
    assert_eq!(unreachable.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("no Barn node answers at `127.0.0.1:9`"),
        "{stderr}"
    );
    // A member's address under a new id would make one machine two voters.
    let alias = add(cluster.url(1), "7", &cluster.addr(2));
    let stderr = String::from_utf8_lossy(&alias.stderr).into_owned();
    assert_eq!(alias.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is node 2's address"), "{stderr}");
    let again = add(cluster.url(1), "2", "127.0.0.1:9");
    let stderr = String::from_utf8_lossy(&again.stderr).into_owned();
    assert_eq!(again.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("node 2 is a voter already"), "{stderr}");
    assert_eq!(member_ids(&cluster, 1), [1, 2, 3]);

    // Node 4 waits to be added; `runi barn add` adds it through a follower
    // or the leader alike.
    cluster.start(4);
    // The node at an address must be the node named.
    let other = add(cluster.url(2), "6", &cluster.addr(4));
    let stderr = String::from_utf8_lossy(&other.stderr).into_owned();
    assert_eq!(other.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is node 4, not node 6"), "{stderr}");
    let added = add(cluster.url(2), "4", &cluster.addr(4));
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    // Node 5 asks to join by itself.
    cluster.start_with(5, &["--join".into(), cluster.addr(3)]);
    cluster.leader_among(&[1, 2, 3, 4, 5]).await;
    wait_for_voters(&cluster, 1, &[1, 2, 3, 4, 5]).await;
    for id in [4, 5] {
        assert_eq!(
            read(&cluster.client(id), Consistency::Linearizable)
                .await
                .as_deref(),
            Some("before")
        );
    }

    for id in ["5", "4"] {
        let remove = runi(&["barn", "remove", "--server", &cluster.url(1), "--id", id]);
        assert!(
            remove.status.success(),
            "{}",
            String::from_utf8_lossy(&remove.stderr)
        );
    }
    assert_eq!(member_ids(&cluster, 2), [1, 2, 3]);
    cluster.kill9(4);
    cluster.kill9(5);
    let after = cluster.client(2).write(&set(8, 2, "after")).await.unwrap();
    assert!(after.is_ok());

    let unknown = runi(&["barn", "remove", "--server", &cluster.url(1), "--id", "9"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no member `9`"));

    // The leader itself removed: the two left elect one of themselves, and
    // the removed node, which hears from no one now, stops naming itself.
    let removed = cluster.leader_among(&[1, 2, 3]).await;
    let left: Vec<u64> = [1, 2, 3].into_iter().filter(|i| *i != removed).collect();
    let remove = runi(&[
        "barn",
        "remove",
        "--server",
        &cluster.url(left[0]),
        "--id",
        &removed.to_string(),
    ]);
    assert!(
        remove.status.success(),
        "{}",
        String::from_utf8_lossy(&remove.stderr)
    );
    let leader = cluster.leader_among(&left).await;
    assert!(left.contains(&leader));
    let status = status_json(&cluster, removed);
    assert_ne!(status["state"], "leader", "{status}");
    assert_ne!(status["leader"], serde_json::json!(removed), "{status}");
    let last = cluster
        .client(leader)
        .write(&set(8, 3, "last"))
        .await
        .unwrap();
    assert!(last.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_with_sigkill_recovers_its_log_and_catches_up() {
    let mut cluster = Cluster::new(3, 3, false);
    cluster.start_voters();
    let leader = cluster.leader().await;
    cluster
        .client(leader)
        .write(&set(9, 1, "v1"))
        .await
        .unwrap()
        .unwrap();

    // A follower dies; the other two go on writing without it.
    let follower = (1..=3).find(|id| *id != leader).unwrap();
    cluster.kill9(follower);
    let others: Vec<u64> = (1..=3).filter(|id| *id != follower).collect();
    for seq in 2..=20 {
        let via = others[usize::try_from(seq).unwrap() % 2];
        cluster
            .client(via)
            .write(&set(9, seq, &format!("v{seq}")))
            .await
            .unwrap()
            .unwrap();
    }
    cluster.start(follower);
    wait_for_value(&cluster, follower, "v20").await;
    assert_eq!(
        read(&cluster.client(follower), Consistency::Linearizable)
            .await
            .as_deref(),
        Some("v20")
    );

    // The leader dies; the other two elect one of themselves and go on.
    cluster.kill9(leader);
    let survivors: Vec<u64> = (1..=3).filter(|id| *id != leader).collect();
    let next = cluster.leader_among(&survivors).await;
    assert_ne!(next, leader);
    cluster
        .client(survivors[0])
        .write(&set(9, 21, "v21"))
        .await
        .unwrap()
        .unwrap();
    cluster.start(leader);
    wait_for_value(&cluster, leader, "v21").await;
    for id in 1..=3 {
        assert_eq!(
            read(&cluster.client(id), Consistency::Linearizable)
                .await
                .as_deref(),
            Some("v21")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_far_behind_catches_up_from_a_snapshot_sent_over_grpc() {
    let mut cluster = Cluster::new(3, 3, false);
    // A snapshot every 5 entries, and no log kept behind it: a node that
    // missed more than that can only catch up from a snapshot.
    cluster.extra = ["--snapshot-logs", "5", "--logs-kept-after-snapshot", "0"]
        .map(String::from)
        .to_vec();
    cluster.start_voters();
    let leader = cluster.leader().await;
    let follower = (1..=3).find(|id| *id != leader).unwrap();
    let before = cluster.client(follower).status().await.unwrap();
    cluster.kill9(follower);
    for seq in 1..=30 {
        let request = set(11, seq, &format!("s{seq}"));
        cluster
            .client(leader)
            .write(&request)
            .await
            .unwrap()
            .unwrap();
    }
    // The leader no longer has the entries the follower misses.
    let status = cluster.client(leader).status().await.unwrap();
    let follower_last = before.last_log_index.unwrap();
    assert!(status.purged_index.unwrap() > follower_last, "{status:?}");
    cluster.start(follower);
    wait_for_value(&cluster, follower, "s30").await;
    assert_eq!(
        read(&cluster.client(follower), Consistency::Linearizable)
            .await
            .as_deref(),
        Some("s30")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deposed_leader_serves_no_stale_linearizable_read() {
    let mut cluster = Cluster::new(3, 3, false);
    cluster.start_voters();
    let old = cluster.leader().await;
    cluster
        .client(old)
        .write(&set(12, 1, "old"))
        .await
        .unwrap()
        .unwrap();
    // The leader stops (as if cut off); the others elect a new one, which
    // takes a write the old leader never sees.
    cluster.pause(old);
    let survivors: Vec<u64> = (1..=3).filter(|id| *id != old).collect();
    let new = cluster.leader_among(&survivors).await;
    cluster
        .client(new)
        .write(&set(12, 2, "new"))
        .await
        .unwrap()
        .unwrap();
    // Woken, the old leader still believes it leads. A linearizable read
    // there must see the new value or fail; never the old one.
    cluster.resume(old);
    match cluster
        .client(old)
        .node(NodeId(KEY), Consistency::Linearizable)
        .await
    {
        Ok(node) => assert_eq!(node.map(|n| n.addr).as_deref(), Some("new")),
        Err(e) => assert!(
            matches!(
                e.kind,
                ApiErrorKind::Unavailable | ApiErrorKind::Indeterminate
            ),
            "{e}"
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_certificates_nodes_and_clients_use_mutual_tls() {
    let mut cluster = Cluster::new(3, 3, true);
    cluster.start_voters();
    let leader = cluster.leader().await;
    let follower = (1..=3).find(|id| *id != leader).unwrap();
    cluster
        .client(follower)
        .write(&set(10, 1, "secret"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        read(&cluster.client(leader), Consistency::Linearizable)
            .await
            .as_deref(),
        Some("secret")
    );
    assert_eq!(status_json(&cluster, follower)["leader"], leader);

    // A client without a certificate is turned away, and so is plaintext.
    let plain = BarnClient::new(&format!("http://{}", cluster.addr(leader)), None, 2_000).unwrap();
    let refused = [ApiErrorKind::Unavailable, ApiErrorKind::Indeterminate];
    let plain_refused = plain.status().await.unwrap_err();
    assert!(refused.contains(&plain_refused.kind));
    assert!(
        plain_refused
            .message
            .contains("the answer was not HTTP: if the node serves TLS, use an `https://` URL"),
        "{plain_refused}"
    );
    let no_cert = runi(&["barn", "status", "--server", &cluster.url(leader)]);
    assert_eq!(no_cert.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_cert.stderr).contains("`--ca`, `--cert`, `--key`"));
    // A certificate from another CA is refused by the server.
    let other = Cluster::new(1, 1, true);
    let foreign = other.certs.as_ref().unwrap().files("client");
    let stranger = BarnClient::new(&cluster.url(leader), Some(&foreign), 2_000).unwrap();
    assert!(refused.contains(&stranger.status().await.unwrap_err().kind));

    // The client's certificate may not serve, so it may not call the peer
    // service (votes, log entries); a node's certificate gets past that
    // check (and then fails as the gRPC call it is not).
    let peer_status = "/runink.barn.v1.Peer/Status";
    let certs = cluster.certs.as_ref().unwrap();
    let as_client = BarnClient::new(&cluster.url(leader), Some(&certs.files("client")), 2_000);
    let denied = as_client
        .unwrap()
        .post_json(peer_status, &Value::Null)
        .await
        .unwrap_err();
    assert_eq!(denied.kind, ApiErrorKind::Forbidden, "{denied}");
    let as_node = BarnClient::new(&cluster.url(leader), Some(&certs.files("node-1")), 2_000);
    let past = as_node.unwrap().post_json(peer_status, &Value::Null).await;
    assert!(
        !matches!(&past, Err(e) if e.kind == ApiErrorKind::Forbidden),
        "{past:?}"
    );
    // Through `runi`, a client certificate still reads and writes.
    let out = runi(&[
        "runs",
        "--server",
        &cluster.url(follower),
        "--ca",
        &path_of(&certs.files("client").ca),
        "--cert",
        &path_of(&certs.files("client").cert),
        "--key",
        &path_of(&certs.files("client").key),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_reads_of_runs_answer_without_a_quorum() {
    let mut cluster = Cluster::new(3, 3, false);
    cluster.start_voters();
    cluster.leader().await;
    let url = cluster.url(1);
    for args in [
        &["runs", "--server", url.as_str()][..],
        &["runs", "--server", url.as_str(), "--stale"],
    ] {
        let out = runi(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Two of three gone: node 1 cannot tell what the cluster last
    // acknowledged, but it can say what it holds.
    cluster.kill9(2);
    cluster.kill9(3);
    let linearizable = runi(&["runs", "--server", &url]);
    assert_eq!(
        linearizable.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&linearizable.stderr)
    );
    for args in [
        &["runs", "--server", url.as_str(), "--stale"][..],
        &["status", "1", "--server", url.as_str(), "--stale"],
        &["logs", "1", "--server", url.as_str(), "--stale"],
    ] {
        let out = runi(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // `status 1` and `logs 1`: no such run (the user's to fix), answered.
        let expected = if args[0] == "runs" { 0 } else { 2 };
        assert_eq!(out.status.code(), Some(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("no leader"), "{args:?}: {stderr}");
    }
    // `--stale` is about a cluster: the local state folder has no quorum.
    let local = runi(&["runs", "--stale"]);
    assert_eq!(local.status.code(), Some(2));
}

/// A server that is not a Barn: it answers every connection with a 404
/// page in HTML, as a web server or a proxy would, until the test ends.
fn foreign_server() -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let page = "<!DOCTYPE HTML>\n<html><body>\x1b[31mNot Found</body></html>\n";
            let _ = write!(
                stream,
                "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    port
}

#[test]
fn answers_that_are_not_a_barns_say_so_and_are_the_users_to_fix() {
    let port = foreign_server();
    let url = format!("http://127.0.0.1:{port}");
    for args in [
        &["runs", "--server", url.as_str()][..],
        &["status", "1", "--server", url.as_str()],
        &["logs", "1", "--server", url.as_str()],
        &["barn", "status", "--server", url.as_str()],
    ] {
        let out = runi(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("answered 404 Not Found, not as a Barn node answers (it begins `<!DOCTYPE HTML>`); is it a Barn node's address?"),
            "{args:?}: {stderr}"
        );
        assert!(
            !stderr.contains("<html>") && !stderr.contains('\x1b'),
            "{stderr}"
        );
    }
    // TLS to a server that answers in plain HTTP says which to use.
    let certs = tempfile::tempdir().unwrap();
    let dir = path_of(certs.path());
    assert!(
        runi(&["barn", "certs", "--nodes", "1", "--out", &dir])
            .status
            .success()
    );
    let file = |name: &str| path_of(&certs.path().join(name));
    let out = runi(&[
        "barn",
        "status",
        "--server",
        &format!("https://127.0.0.1:{port}"),
        "--ca",
        &file("ca.pem"),
        "--cert",
        &file("client.pem"),
        "--key",
        &file("client-key.pem"),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(
            "the answer was not TLS: if the node serves plain HTTP, use an `http://` URL"
        ),
        "{stderr}"
    );
}

fn path_of(path: &std::path::Path) -> String {
    path.display().to_string()
}

/// A folder with a node's lock file but not its store lost the node's log
/// and votes: the node is not started afresh under its old id.
#[test]
fn a_node_whose_store_is_gone_is_not_started_afresh() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("barn.lock"), "").unwrap();
    let data_arg = path_of(&data);
    let args = [
        "barn",
        "start",
        "--id",
        "3",
        "--listen",
        "127.0.0.1:0",
        "--data",
        &data_arg,
        "--insecure",
    ];
    let out = runi(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("has `barn.lock` but not `barn.redb`"),
        "{stderr}"
    );
    assert!(stderr.contains("runi barn remove --id 3"), "{stderr}");
    assert!(!data.join("barn.redb").exists(), "a fresh store was made");
}

#[test]
fn bad_start_arguments_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let data = data.to_str().unwrap();
    // (where node 1 listens, the other arguments, what the error says)
    let cases: [(&str, &[&str], &str); 9] = [
        ("127.0.0.1:0", &[], "--insecure"),
        (
            "nohost",
            &["--insecure"],
            "`--listen nohost` is no address: a node's address is HOST:PORT",
        ),
        (
            "127.0.0.1:0",
            &["--insecure", "--peers", "1=x"],
            "not HOST:PORT",
        ),
        (
            "127.0.0.1:0",
            &["--insecure", "--peers", "1=127.0.0.1:9,2=h:port"],
            "`h:port` is not HOST:PORT",
        ),
        (
            "127.0.0.1:0",
            &["--insecure", "--peers", "1=127.0.0.1:9,2=:9"],
            "`:9` is not HOST:PORT",
        ),
        (
            "127.0.0.1:0",
            &["--insecure", "--peers", "0=h:1"],
            "not a node id",
        ),
        (
            "127.0.0.1:0",
            &["--insecure", "--peers", "2=h:1"],
            "does not name this node",
        ),
        (
            "127.0.0.1:0",
            &["--insecure", "--peers", "1=127.0.0.1:9"],
            "gives this node (`1`) the address `127.0.0.1:9`, but it listens on `127.0.0.1:0`",
        ),
        (
            "127.0.0.1:0",
            &["--ca", "/nonexistent/ca.pem", "--cert", "c", "--key", "k"],
            "bad certificate file `/nonexistent/ca.pem`: no such file",
        ),
    ];
    for (listen, others, says) in cases {
        let mut args = vec![
            "barn", "start", "--id", "1", "--listen", listen, "--data", data,
        ];
        args.extend(others);
        let out = runi(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Each is the user's to fix, and leaves no data folder behind.
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!std::path::Path::new(data).exists(), "{args:?} made {data}");
    }
    // An address in use is the machine's to free; it leaves no folder either.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap().to_string();
    let args = [
        "barn",
        "start",
        "--id",
        "1",
        "--listen",
        &taken,
        "--data",
        data,
        "--insecure",
    ];
    let out = runi(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on `{taken}`")),
        "{stderr}"
    );
    assert!(!std::path::Path::new(data).exists(), "made {data}");
    let bad_url = runi(&["barn", "status", "--server", "ftp://h:1"]);
    assert_eq!(bad_url.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_url.stderr).contains("use http:// or https://"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_old_leader_serves_no_stale_linearizable_read() {
    if let Some(why) = barn_support::Net::unavailable() {
        barn_support::require_partitions(&why);
        return;
    }
    let mut cluster = Cluster::on_private_network(3, 3);
    cluster.start_voters();
    let old = cluster.leader().await;
    let client = cluster.client(old);
    client.write(&set(1, 1, "before")).await.unwrap().unwrap();

    // The old leader is cut off from the other two, which the test still
    // reaches: they elect a new leader and take a write.
    cluster.net.as_ref().unwrap().isolate(old);
    let others: Vec<u64> = (1..=3).filter(|id| *id != old).collect();
    let new = cluster.leader_among(&others).await;
    assert_ne!(new, old);
    cluster
        .client(new)
        .write(&set(2, 1, "after"))
        .await
        .unwrap()
        .unwrap();

    // The old leader cannot confirm its leadership, so it refuses a
    // linearizable read rather than answer `before`; a stale read there
    // shows it still holds `before`.
    let refused = client.node(NodeId(KEY), Consistency::Linearizable).await;
    match &refused {
        Err(e) => assert_eq!(e.kind, ApiErrorKind::Unavailable, "{e}"),
        Ok(value) => panic!("the cut-off old leader answered a linearizable read: {value:?}"),
    }
    assert_eq!(
        read(&client, Consistency::Stale).await.as_deref(),
        Some("before")
    );

    // Mended, it learns the new value and serves it.
    cluster.net.as_ref().unwrap().rejoin(old);
    wait_for_value(&cluster, old, "after").await;
    assert_eq!(
        read(&client, Consistency::Linearizable).await.as_deref(),
        Some("after")
    );
}
