//! Talking to the daemon from a command: connect (starting it when needed) and send one
//! request, with an error reply turned into an error; and [`Session`], one connection a
//! command opens once and sends all its requests over.

use crate::client::{self, Client};
use anyhow::{bail, Result};
use pm2_home::Pm2Home;
use pm2_proto::{Request, Response};

/// Connects (starting the daemon when needed).
pub(crate) fn connect(home: &Pm2Home) -> Result<Client> {
    client::connect(home, false)
}

/// Sends a request and turns an error response into an error.
pub(crate) fn expect(client: &mut Client, request: Request) -> Result<Response> {
    match client.request(request)? {
        Response::Error { message } => bail!("{message}"),
        other => Ok(other),
    }
}

/// The one connection of a command that asks the daemon several things in turn (`pm2
/// start`: is the name taken, start, the table). Opened when first needed and kept: the
/// daemon serves requests on a connection one after the other, as every daemon of
/// pm2-rs has, so this changes nothing on the wire, and each request after the first
/// spares a connect, an accept and a task in the daemon.
pub(crate) struct Session<'h> {
    home: &'h Pm2Home,
    client: Option<Client>,
}

impl<'h> Session<'h> {
    /// A session of `home` that has not connected yet.
    pub(crate) fn new(home: &'h Pm2Home) -> Session<'h> {
        Session { home, client: None }
    }

    /// The home this session talks to.
    pub(crate) fn home(&self) -> &'h Pm2Home {
        self.home
    }

    /// The connection when a daemon already serves this home; `None` when none does
    /// (nothing is started: a question to a daemon that does not run has its answer).
    pub(crate) fn existing(&mut self) -> Option<&mut Client> {
        if self.client.is_none() {
            self.client = client::connect_existing(self.home);
        }
        self.client.as_mut()
    }

    /// The connection, starting the daemon when none serves this home.
    pub(crate) fn client(&mut self) -> Result<&mut Client> {
        let client = match self.client.take() {
            Some(client) => client,
            None => connect(self.home)?,
        };
        Ok(self.client.insert(client))
    }
}
