//! Private multi-node Redis deployments for the scale-out tests: a Redis Cluster of three
//! masters with a replica each, and a Sentinel set-up (one master, one replica, three
//! sentinels). Every process listens on a free port of 127.0.0.1, keeps nothing on disk but
//! its node or sentinel file in a temporary directory of the topology's own, and is killed
//! (and the directory removed) when the topology is dropped, even while a failed test unwinds.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use crate::support::{command_on, skip, unique_free_port};

/// How long a topology may take to come up (a busy CI machine included).
const COME_UP: Duration = Duration::from_secs(30);

/// The master name the sentinels monitor.
pub(crate) const SENTINEL_SERVICE: &str = "mymaster";

/// One `redis-server` process (a data node or a sentinel).
struct Node {
    port: u16,
    child: Option<Child>,
}

impl Node {
    fn spawn(port: u16, dir: &PathBuf, args: &[String]) -> Self {
        let child = Command::new("redis-server")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let node = Self {
            port,
            child: Some(child),
        };
        poll(&format!("redis-server on port {port} answers PING"), || {
            answers(port)
        });
        node
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A running multi-node deployment; everything is killed and removed on drop.
pub(crate) struct Topology {
    /// The data nodes (masters and replicas).
    nodes: Vec<Node>,
    /// The sentinels (none for a cluster).
    sentinels: Vec<Node>,
    dir: PathBuf,
}

impl Topology {
    fn new(tag: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "session-redis-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("topology directory");
        Self {
            nodes: Vec::new(),
            sentinels: Vec::new(),
            dir,
        }
    }

    /// A Redis Cluster of three masters, each with one replica (`redis-cli --cluster create
    /// --cluster-replicas 1`), `cluster-node-timeout` 1 s; returned once every node sees
    /// `cluster_state:ok` and six nodes, and every replica is in sync with its master. `None`
    /// (with a notice) without `redis-server` and `redis-cli`.
    pub(crate) fn cluster(test: &str) -> Option<Self> {
        if !installed(test) {
            return None;
        }
        let mut topology = Self::new("cluster");
        let ports: Vec<u16> = (0..6).map(|_| unique_free_port()).collect();
        for &port in &ports {
            let args = data_node_args(port, &topology.dir)
                .into_iter()
                .chain(
                    [
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        &format!("nodes-{port}.conf"),
                        "--cluster-node-timeout",
                        "1000",
                        "--cluster-announce-ip",
                        "127.0.0.1",
                    ]
                    .map(String::from),
                )
                .collect::<Vec<_>>();
            let node = Node::spawn(port, &topology.dir, &args);
            topology.nodes.push(node);
        }
        let created = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(ports.iter().map(|port| format!("127.0.0.1:{port}")))
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .expect("run redis-cli --cluster create");
        assert!(
            created.status.success(),
            "redis-cli --cluster create failed: {}",
            String::from_utf8_lossy(&created.stdout)
        );
        for &port in &ports {
            poll(
                &format!("node {port} sees a healthy cluster of six"),
                || {
                    let info = command_on(port, &["CLUSTER", "INFO"]);
                    info.contains("cluster_state:ok") && info.contains("cluster_known_nodes:6")
                },
            );
        }
        topology.wait_for_replicas();
        Some(topology)
    }

    /// One master, one replica (`--replicaof`) and three sentinels monitoring them (quorum 2,
    /// `down-after-milliseconds` 1000, `failover-timeout` 5000); returned once every sentinel
    /// knows the replica and the two other sentinels. `None` (with a notice) without
    /// `redis-server` and `redis-cli`.
    pub(crate) fn sentinel(test: &str) -> Option<Self> {
        if !installed(test) {
            return None;
        }
        let mut topology = Self::new("sentinel");
        let (master, replica) = (unique_free_port(), unique_free_port());
        let args = data_node_args(master, &topology.dir);
        topology
            .nodes
            .push(Node::spawn(master, &topology.dir, &args));
        let mut args = data_node_args(replica, &topology.dir);
        args.extend(["--replicaof", "127.0.0.1", &master.to_string()].map(String::from));
        topology
            .nodes
            .push(Node::spawn(replica, &topology.dir, &args));
        topology.wait_for_replicas();
        for _ in 0..3 {
            let port = unique_free_port();
            let conf = topology.dir.join(format!("sentinel-{port}.conf"));
            std::fs::write(
                &conf,
                format!(
                    "port {port}\nbind 127.0.0.1\ndir {dir}\n\
                     sentinel monitor {SENTINEL_SERVICE} 127.0.0.1 {master} 2\n\
                     sentinel down-after-milliseconds {SENTINEL_SERVICE} 1000\n\
                     sentinel failover-timeout {SENTINEL_SERVICE} 5000\n\
                     sentinel parallel-syncs {SENTINEL_SERVICE} 1\n",
                    dir = topology.dir.display()
                ),
            )
            .expect("sentinel.conf");
            let args = [conf.display().to_string(), "--sentinel".to_owned()];
            let node = Node::spawn(port, &topology.dir, &args);
            topology.sentinels.push(node);
        }
        let healthy = format!("address=127.0.0.1:{master},slaves=1,sentinels=3");
        for sentinel in &topology.sentinels {
            let port = sentinel.port;
            poll(
                &format!("sentinel {port} knows the replica and its peers"),
                || command_on(port, &["INFO", "sentinel"]).contains(&healthy),
            );
        }
        Some(topology)
    }

    /// The store URL of this cluster (every node as a seed) or of its sentinels.
    pub(crate) fn url(&self) -> String {
        if let Some((first, rest)) = self.sentinels.split_first() {
            let mut url = format!(
                "redis-sentinel://127.0.0.1:{}/0?sentinelServiceName={SENTINEL_SERVICE}",
                first.port
            );
            for sentinel in rest {
                url.push_str(&format!("&node=127.0.0.1:{}", sentinel.port));
            }
            return url;
        }
        let (first, rest) = self.nodes.split_first().expect("a cluster has nodes");
        let mut url = format!("redis-cluster://127.0.0.1:{}", first.port);
        for (i, node) in rest.iter().enumerate() {
            url.push_str(if i == 0 { "?" } else { "&" });
            url.push_str(&format!("node=127.0.0.1:{}", node.port));
        }
        url
    }

    /// The ports of the running data nodes that are masters now.
    pub(crate) fn masters(&self) -> Vec<u16> {
        self.running()
            .filter(|&port| role(port) == "master")
            .collect()
    }

    /// The port of the running master that holds `key` (on a cluster, the one that does not
    /// answer `MOVED`).
    pub(crate) fn master_of(&self, key: &str) -> u16 {
        self.masters()
            .into_iter()
            .find(|&port| !command_on(port, &["EXISTS", key]).starts_with("-MOVED"))
            .expect("a master holds the key's slot")
    }

    /// The ports of the running replicas of the master on `port`.
    pub(crate) fn replicas_of(&self, port: u16) -> Vec<u16> {
        let wanted = format!("master_port:{port}\r\n");
        self.running()
            .filter(|&replica| command_on(replica, &["INFO", "replication"]).contains(&wanted))
            .collect()
    }

    /// How many keys match `pattern` on the masters (each counted once, on its master).
    pub(crate) fn count_keys(&self, pattern: &str) -> usize {
        let script = "return #redis.call('KEYS', ARGV[1])";
        self.masters()
            .into_iter()
            .map(|port| {
                let reply = command_on(port, &["EVAL", script, "0", pattern]);
                reply
                    .strip_prefix(':')
                    .and_then(|n| n.trim_end().parse::<usize>().ok())
                    .unwrap_or_else(|| panic!("not a count: {reply}"))
            })
            .sum()
    }

    /// Kills the data node on `port` with SIGKILL (no goodbye to anyone).
    pub(crate) fn kill(&mut self, port: u16) {
        self.nodes
            .iter_mut()
            .find(|node| node.port == port)
            .expect("a node of this topology")
            .kill();
    }

    /// Whether the data node on `port` is a master now.
    pub(crate) fn is_master(&self, port: u16) -> bool {
        role(port) == "master"
    }

    fn running(&self) -> impl Iterator<Item = u16> + '_ {
        self.nodes
            .iter()
            .filter(|node| node.child.is_some())
            .map(|node| node.port)
    }

    /// Waits until every master has its replicas attached and every replica is in sync.
    fn wait_for_replicas(&self) {
        for port in self.running().collect::<Vec<_>>() {
            poll(&format!("node {port} is in sync with its peers"), || {
                let info = command_on(port, &["INFO", "replication"]);
                if info.contains("role:master") {
                    // Three masters of a cluster have one replica each; so has Sentinel's.
                    info.contains("connected_slaves:1")
                } else {
                    info.contains("master_link_status:up")
                        && info.contains("master_sync_in_progress:0")
                }
            });
        }
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        for node in self.sentinels.iter_mut().chain(self.nodes.iter_mut()) {
            node.kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What every data node runs with: no persistence, its files in the topology's directory.
fn data_node_args(port: u16, dir: &std::path::Path) -> Vec<String> {
    [
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        &dir.display().to_string(),
    ]
    .map(String::from)
    .to_vec()
}

/// `master` or `slave`, from `INFO replication`.
fn role(port: u16) -> String {
    command_on(port, &["INFO", "replication"])
        .lines()
        .find_map(|line| line.strip_prefix("role:"))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Whether `redis-server` and `redis-cli` are installed; a notice (or, when services are
/// required, a failure) when not.
fn installed(test: &str) -> bool {
    let runs = |program: &str| {
        Command::new(program)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if runs("redis-server") && runs("redis-cli") {
        return true;
    }
    skip(test, "redis-server and redis-cli are not both installed");
    false
}

/// Whether something on `port` answers `PING` with `PONG`.
fn answers(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        && command_on(port, &["PING"]).starts_with("+PONG")
}

/// Polls `ready` until it holds; fails after [`COME_UP`] naming `what`.
fn poll(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + COME_UP;
    while !ready() {
        assert!(Instant::now() < deadline, "not within {COME_UP:?}: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
