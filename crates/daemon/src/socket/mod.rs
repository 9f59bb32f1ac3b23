//! The control socket the CLI talks to.
//!
//! - [`framing`]: one length-prefixed JSON frame in, one reply frame out;
//! - [`limits`]: how many connections, how long a frame may take, how much is read at once;
//! - [`serve`]: the accept loop and each connection's request loop, which hands every
//!   request to [`crate::handlers`].

pub(crate) mod framing;
pub(crate) mod limits;
pub(crate) mod serve;
