//! `pm2 monitor|unmonitor <id|name|all>`: PM2's `_km_monitored` flag, which the web
//! dashboard reads to leave apps out (absent until set; `false` means left out).

use super::super::connection::{connect, expect};
use super::super::views::print_table;
use super::plus;
use crate::out;
use anyhow::Result;
use pm2_home::Pm2Home;
use pm2_proto::{MonitorRequest, Request, Target};

/// Sets the flag on the apps `target` names, then prints the table as PM2 does. No target:
/// `monitor` is PM2 Plus's entry point (not available yet), `unmonitor` asks for one.
pub(super) fn set(home: &Pm2Home, target: Option<&str>, monitored: bool) -> Result<i32> {
    let Some(target) = target else {
        if monitored {
            return Ok(plus::unavailable("monitor"));
        }
        out::error("Please specify an <app_name|pm_id>");
        return Ok(1);
    };
    let mut client = connect(home)?;
    let request = Request::Monitor(MonitorRequest {
        targets: vec![Target::parse(target)],
        monitored,
    });
    expect(&mut client, request)?;
    print_table(&mut client)?;
    Ok(0)
}
