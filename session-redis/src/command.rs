//! [`Command`]: one Redis command as the store sends it, and [`send`], which sends a command
//! alone or behind a user-index entry in the same round trip.
//!
//! Every command goes out as a fred custom command routed by its key's hash slot, so a store
//! on Redis Cluster sends each to the node that holds its key; the replies are read as plain
//! [`Value`]s.

use fred::{
    bytes::Bytes,
    bytes_utils::Str,
    error::{Error as ClientError, ErrorKind},
    prelude::{Client, ClientLike},
    types::{config::Options, CustomCommand, Value},
};

/// A command name, the key that routes it on a cluster, and its arguments (key included).
#[derive(Debug)]
pub(crate) struct Command {
    name: CustomCommand,
    args: Vec<Value>,
}

impl Command {
    /// `name key rest...`, routed by `key`'s hash slot on a cluster.
    fn keyed<const N: usize>(name: &'static str, key: Str, rest: [Value; N]) -> Self {
        Self::routed(name, &key.clone(), [key.into()].into_iter().chain(rest))
    }

    /// `name args...`, routed by `key`'s hash slot on a cluster (for a command whose key is not
    /// its first argument, such as `EVALSHA`).
    pub(crate) fn routed(
        name: &'static str,
        key: &str,
        args: impl IntoIterator<Item = Value>,
    ) -> Self {
        Self {
            name: CustomCommand::new_static(name, key, false),
            args: args.into_iter().collect(),
        }
    }

    /// `GET key`.
    pub(crate) fn get(key: Str) -> Self {
        Self::keyed("GET", key, [])
    }

    /// `SET key value NX EX ttl`: writes only where no key is.
    pub(crate) fn set_nx_ex(key: Str, value: Bytes, ttl: i64) -> Self {
        Self::keyed(
            "SET",
            key,
            [value.into(), word("NX"), word("EX"), ttl.into()],
        )
    }

    /// `PTTL key`: the milliseconds the key has left, -1 without an expiry, -2 without a key.
    pub(crate) fn pttl(key: Str) -> Self {
        Self::keyed("PTTL", key, [])
    }

    /// `EXPIRE key ttl`.
    pub(crate) fn expire(key: Str, ttl: i64) -> Self {
        Self::keyed("EXPIRE", key, [ttl.into()])
    }

    /// `DEL key`.
    pub(crate) fn del(key: Str) -> Self {
        Self::keyed("DEL", key, [])
    }

    /// `ZRANGEBYSCORE key min +inf`: the members scored `min` or more.
    pub(crate) fn zrangebyscore_from(key: Str, min: i64) -> Self {
        Self::keyed("ZRANGEBYSCORE", key, [min.into(), word("+inf")])
    }
}

/// A fixed argument (`EX`, `NX`, ...), without allocating.
pub(crate) fn word(word: &'static str) -> Value {
    Value::from_static_str(word)
}

/// Sends `command` and returns its reply. With an `index` entry, the entry is sent first in
/// the same round trip: both go down the one connection back to back (a pipeline), so Redis
/// runs the entry before the command and a listing of the user's sessions can never miss a
/// session once it is written. An entry that fails fails the call, even when the command
/// itself then went through.
///
/// On Redis Cluster the index and the session hash to different slots, usually on different
/// nodes whose order of execution nothing ties, so there the entry is awaited before the
/// command is sent: two round trips for a write that names a user.
pub(crate) async fn send(
    client: &Client,
    options: &Options,
    index: Option<Command>,
    command: Command,
) -> Result<Value, ClientError> {
    let Some(index) = index else {
        return client
            .with_options(options)
            .custom(command.name, command.args)
            .await;
    };
    if client.is_clustered() {
        let client = client.with_options(options);
        client.custom::<Value, _>(index.name, index.args).await?;
        return client.custom(command.name, command.args).await;
    }
    send_pair(client, options, index, command)
        .await
        .map(|(_, reply)| reply)
}

/// Sends `first` and `second` back to back down one connection (a pipeline: one round trip),
/// so Redis runs them in that order, and returns both replies; fails with the first error.
/// On Redis Cluster both must name keys of one hash slot.
pub(crate) async fn send_pair(
    client: &Client,
    options: &Options,
    first: Command,
    second: Command,
) -> Result<(Value, Value), ClientError> {
    let pipeline = client.pipeline().with_options(options);
    pipeline.custom::<(), _>(first.name, first.args).await?;
    pipeline.custom::<(), _>(second.name, second.args).await?;
    let mut replies = pipeline.try_all::<Value>().await.into_iter();
    match (replies.next(), replies.next()) {
        (Some(Err(error)), _) => Err(error),
        (Some(Ok(first)), Some(second)) => Ok((first, second?)),
        _ => Err(ClientError::new(
            ErrorKind::Protocol,
            "a pipeline of two commands did not get two replies",
        )),
    }
}

/// A string reply as its bytes; `None` for a nil reply.
pub(crate) fn bytes_or_nil(reply: Value) -> Result<Option<Bytes>, ClientError> {
    match reply {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(text.into_inner())),
        Value::Bytes(bytes) => Ok(Some(bytes)),
        other => Err(unexpected(&other)),
    }
}

/// The error for a reply of a kind the command never gives.
pub(crate) fn unexpected(reply: &Value) -> ClientError {
    ClientError::new(
        ErrorKind::Parse,
        format!("unexpected Redis reply of kind {:?}", reply.kind()),
    )
}
