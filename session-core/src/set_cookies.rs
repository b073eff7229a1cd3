//! [`SetCookies`]: the `Set-Cookie` values a request's end sends.

/// The `Set-Cookie` header values to add to a response, in order: none, the session cookie,
/// or (in cookie mode with [`CookieFormat::CookieSession`](crate::CookieFormat::CookieSession))
/// the session cookie and its signature. Adapters append each as its own header.
///
/// ```
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// # let config = session_core::SessionConfig::builder().secret("a secret of at least thirty-two bytes!").build()?;
/// # let manager = session_core::SessionManager::new(session_core::MemoryStore::new(), config);
/// # let request = manager.begin([], session_core::RequestFacts::plain_http());
/// # request.session().await?.insert("n", 1)?;
/// let cookies = request.finish().await?;
/// for value in &cookies {
///     // response.headers_mut().append(SET_COOKIE, HeaderValue::try_from(value)?);
///     assert!(value.starts_with("connect.sid="));
/// }
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run()).unwrap();
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetCookies {
    values: [Option<String>; 2],
}

impl SetCookies {
    /// No cookie.
    pub fn none() -> Self {
        Self::default()
    }

    /// One cookie.
    pub fn one(value: String) -> Self {
        Self {
            values: [Some(value), None],
        }
    }

    /// Adds a value after the others.
    pub(crate) fn push(&mut self, value: String) {
        if let Some(slot) = self.values.iter_mut().find(|slot| slot.is_none()) {
            *slot = Some(value);
        }
    }

    /// Whether there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.values[0].is_none()
    }

    /// How many values there are.
    pub fn len(&self) -> usize {
        self.values.iter().flatten().count()
    }

    /// The values, in order.
    pub fn iter(&self) -> <&Self as IntoIterator>::IntoIter {
        self.into_iter()
    }

    /// The first value: the session cookie, when there is one.
    pub fn first(&self) -> Option<&str> {
        self.values[0].as_deref()
    }
}

impl IntoIterator for SetCookies {
    type Item = String;
    type IntoIter = std::iter::Flatten<std::array::IntoIter<Option<String>, 2>>;

    fn into_iter(self) -> Self::IntoIter {
        self.values.into_iter().flatten()
    }
}

impl<'a> IntoIterator for &'a SetCookies {
    type Item = &'a str;
    type IntoIter = std::iter::Map<
        std::iter::Flatten<std::slice::Iter<'a, Option<String>>>,
        fn(&'a String) -> &'a str,
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.values.iter().flatten().map(String::as_str)
    }
}
