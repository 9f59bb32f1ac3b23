//! Talking to the daemon from a command: connect (starting it when needed) and send one
//! request, with an error reply turned into an error.

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
