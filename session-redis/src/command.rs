//! [`Command`]: one Redis command as the store sends it, and [`send`], which sends a command
//! alone or behind a user-index entry in the same round trip.
//!
//! Every command is routed by its key's hash slot, so a store on Redis Cluster sends each to
//! the node that holds its key; the replies are read as plain [`Value`]s. The commands of a
//! request's load and of the common writes (`GET`, `PTTL`, `SET`, `EXPIRE`, `DEL`) go out as
//! fred's typed commands, the rest (scripts, the index listing) as custom ones: fred flushes
//! the socket after every custom command, but holds a typed one back while another command is
//! queued behind it, so typed commands of concurrent requests share socket writes (fred 10.1:
//! `CommandKind::should_flush` lists `_Custom`; `router/utils.rs::prepare_command`).

use fred::{
    bytes::Bytes,
    bytes_utils::Str,
    error::{Error as ClientError, ErrorKind},
    interfaces::KeysInterface,
    prelude::{Client, ClientLike},
    types::{config::Options, CustomCommand, Expiration, FromValue, SetOptions, Value},
};

/// One command: a typed one of fred's, or a custom one (name, the key that routes it on a
/// cluster, and its arguments, key included).
#[derive(Debug)]
pub(crate) enum Command {
    /// `GET key`.
    Get(Str),
    /// `PTTL key`: the milliseconds the key has left, -1 without an expiry, -2 without a key.
    Pttl(Str),
    /// `SET key value NX EX ttl`: writes only where no key is.
    SetNxEx { key: Str, value: Bytes, ttl: i64 },
    /// `EXPIRE key ttl`.
    Expire { key: Str, ttl: i64 },
    /// `DEL key`.
    Del(Str),
    /// Any other command, by name ([`Command::routed`]).
    Custom {
        name: CustomCommand,
        args: Vec<Value>,
    },
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
        Self::Custom {
            name: CustomCommand::new_static(name, key, false),
            args: args.into_iter().collect(),
        }
    }

    /// `ZRANGEBYSCORE key min +inf`: the members scored `min` or more.
    pub(crate) fn zrangebyscore_from(key: Str, min: i64) -> Self {
        Self::keyed("ZRANGEBYSCORE", key, [min.into(), word("+inf")])
    }

    /// Sends the command through `client` (a client, or a pipeline that only queues it).
    async fn run<C, R>(self, client: &C) -> Result<R, ClientError>
    where
        C: KeysInterface + Sync,
        R: FromValue,
    {
        // Each of fred's futures is boxed: they are large (kilobytes), and each move of an
        // unboxed one, into this future and into every future around it, copies all of it.
        match self {
            Self::Get(key) => Box::pin(client.get(key)).await,
            Self::Pttl(key) => Box::pin(client.pttl(key)).await,
            Self::SetNxEx { key, value, ttl } => {
                let expiry = Some(Expiration::EX(ttl));
                Box::pin(client.set(key, value, expiry, Some(SetOptions::NX), false)).await
            }
            Self::Expire { key, ttl } => Box::pin(client.expire(key, ttl, None)).await,
            Self::Del(key) => Box::pin(client.del(key)).await,
            Self::Custom { name, args } => Box::pin(client.custom(name, args)).await,
        }
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
        return command.run(&client.with_options(options)).await;
    };
    if client.is_clustered() {
        let client = client.with_options(options);
        index.run::<_, Value>(&client).await?;
        return command.run(&client).await;
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
    first.run::<_, ()>(&pipeline).await?;
    second.run::<_, ()>(&pipeline).await?;
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

/// `GET key` and `PTTL key` in one round trip, written to the socket together.
///
/// fred flushes the socket after every custom command and after each command of a
/// `pipeline()`, but holds a typed command back while another is queued behind it: both are
/// queued on the first poll, in this order, so they go out together (and with other requests'
/// loads queued meanwhile). On Redis Cluster both go to the node of `key`'s slot.
pub(crate) async fn get_and_pttl(
    client: &Client,
    options: &Options,
    key: Str,
) -> Result<(Value, Value), ClientError> {
    let client = client.with_options(options);
    let (value, ttl) = tokio::join!(
        Command::Get(key.clone()).run(&client),
        Command::Pttl(key).run(&client),
    );
    Ok((value?, ttl?))
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
