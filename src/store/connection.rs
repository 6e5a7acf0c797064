//! The one connection the Redis store talks through: a single server or a Redis Cluster,
//! behind redis-rs's `ConnectionLike`, so every command, pipeline and script is written once.
//!
//! A cluster is reached through seed nodes; redis-rs routes each command to its slot's master,
//! follows MOVED/ASK and re-reads the slot map after a failover. The store keeps to the rules
//! that make one code path possible: every script and pipeline touches keys of one hash slot
//! (`{conversation id}`, `{content}`, `{offline}`), and events go over classic pub/sub, which
//! a cluster delivers to every node, so the listener may subscribe on any node it can reach.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};
use tokio::sync::OnceCell;

/// How long one command may take, and connecting to a node.
const TIMEOUT: Duration = Duration::from_secs(2);

/// Where the store's Redis is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisTarget {
    /// One server (or a proxy in front of several).
    Single(String),
    /// A Redis Cluster, reached through any of these seed nodes.
    Cluster(Vec<String>),
}

impl RedisTarget {
    /// `HA_REDIS_URL` as written: a comma-separated list of seed nodes is a cluster, and so is
    /// one URL when `cluster` is set (`HA_REDIS_CLUSTER=1`).
    pub fn from_url(url: &str, cluster: bool) -> Self {
        let urls: Vec<String> =
            url.split(',').map(str::trim).filter(|u| !u.is_empty()).map(str::to_string).collect();
        match (cluster || urls.len() > 1, urls.first()) {
            (false, Some(first)) => Self::Single(first.clone()),
            (false, None) => Self::Single(url.to_string()),
            (true, _) => Self::Cluster(urls),
        }
    }

    /// The nodes a subscriber may try, in order.
    pub fn seeds(&self) -> &[String] {
        match self {
            Self::Single(url) => std::slice::from_ref(url),
            Self::Cluster(urls) => urls,
        }
    }
}

/// A cheap-to-clone handle to Redis. Both kinds connect lazily and reconnect by themselves, so
/// the service starts while Redis is down and answers 503 until it is back.
#[derive(Clone)]
pub enum RedisConnection {
    Single(ConnectionManager),
    Cluster(LazyCluster),
}

impl RedisConnection {
    pub fn open(target: &RedisTarget) -> RedisResult<Self> {
        match target {
            RedisTarget::Single(url) => {
                let client = redis::Client::open(url.as_str())?;
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(TIMEOUT))
                    .set_response_timeout(Some(TIMEOUT))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(500));
                Ok(Self::Single(ConnectionManager::new_lazy_with_config(client, config)?))
            }
            RedisTarget::Cluster(seeds) => {
                // A few quick retries ride out a failover (the replica takes over within the
                // cluster's node timeout) without holding a resident's request for long.
                let client = ClusterClientBuilder::new(seeds.iter().map(String::as_str))
                    .connection_timeout(TIMEOUT)
                    .response_timeout(TIMEOUT)
                    .retries(6)
                    .min_retry_wait(100)
                    .max_retry_wait(1_000)
                    .build()?;
                Ok(Self::Cluster(LazyCluster {
                    client: Arc::new(client),
                    connection: Arc::new(OnceCell::new()),
                }))
            }
        }
    }
}

/// A cluster connection made on first use. A failed first attempt is not remembered: the
/// next command tries again.
#[derive(Clone)]
pub struct LazyCluster {
    client: Arc<ClusterClient>,
    connection: Arc<OnceCell<ClusterConnection>>,
}

impl LazyCluster {
    async fn get(&self) -> RedisResult<ClusterConnection> {
        self.connection.get_or_try_init(|| self.client.get_async_connection()).await.cloned()
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(connection) => connection.req_packed_command(cmd),
            Self::Cluster(lazy) => Box::pin(async move { lazy.get().await?.req_packed_command(cmd).await }),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(connection) => connection.req_packed_commands(pipeline, offset, count),
            Self::Cluster(lazy) => {
                Box::pin(async move { lazy.get().await?.req_packed_commands(pipeline, offset, count).await })
            }
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(connection) => connection.get_db(),
            Self::Cluster(_) => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_seed_nodes_or_the_cluster_flag_means_a_cluster() {
        assert_eq!(
            RedisTarget::from_url("redis://a:6379", false),
            RedisTarget::Single("redis://a:6379".into())
        );
        assert_eq!(
            RedisTarget::from_url("redis://a:7000, redis://b:7001", false),
            RedisTarget::Cluster(vec!["redis://a:7000".into(), "redis://b:7001".into()])
        );
        assert_eq!(
            RedisTarget::from_url("redis://a:7000", true),
            RedisTarget::Cluster(vec!["redis://a:7000".into()])
        );
    }
}
