//! Carries out what the phase decided: each [`Effect`] in order, and the event an
//! asynchronous effect answers with (a spawn, a stop, an exit's remains) fed back to the
//! phase, until nothing is left to do.

use super::control::Outcome;
use super::phase::{Effect, Event};
use super::process::Running;
use super::state::{now_ms, Instance};
use std::collections::VecDeque;
use tokio::time::Instant;

impl Instance {
    /// Feeds `event` to the phase and does all that follows from it. The outcome is the
    /// spawn's, when one was tried (a start that failed leaves the instance `errored`).
    pub(super) async fn drive(&mut self, event: Event<Running>) -> Outcome {
        let mut outcome = Ok(());
        let mut todo: VecDeque<_> = self.step(event).into();
        while let Some(effect) = todo.pop_front() {
            let Some(answer) = self.apply(effect, &mut outcome).await else {
                continue;
            };
            for effect in self.step(answer).into_iter().rev() {
                todo.push_front(effect);
            }
        }
        outcome
    }

    /// Does one effect; an asynchronous one answers with the event it led to.
    async fn apply(
        &mut self,
        effect: Effect<Running>,
        outcome: &mut Outcome,
    ) -> Option<Event<Running>> {
        match effect {
            Effect::Publish => self.publish(),
            Effect::Announce(why) => self.announce(why),
            Effect::CountRestart => self.info.restart_time += 1,
            Effect::Spawn => return Some(self.spawn(outcome).await),
            Effect::End(child) => {
                self.unwatch_health();
                self.stop_child(child).await;
                return Some(Event::Ended);
            }
            Effect::Reap(child, exit) => {
                self.unwatch_health();
                self.reap(child, exit).await;
                let decision = self.decide(exit.code);
                let now = Instant::now();
                return Some(Event::Decided { decision, now });
            }
            Effect::Retire(child) => self.retire(child).await,
        }
        None
    }

    /// Spawns the instance's process; a failure is kept in `outcome` for the caller.
    async fn spawn(&mut self, outcome: &mut Outcome) -> Event<Running> {
        self.info.pm_uptime = now_ms();
        tracing::info!(
            "App [{}] starting in -{} mode-",
            self.label(),
            self.info.spec.exec_mode.short()
        );
        match self.spawn_process().await {
            Ok(child) => {
                let ready_by = self.take_in(&child);
                Event::Spawned { child, ready_by }
            }
            Err(e) => {
                self.info.pid = None;
                tracing::error!("App [{}] failed to start: {e}", self.label());
                *outcome = Err(e.into());
                Event::SpawnFailed
            }
        }
    }

    /// The process is up: say so in the daemon's log and to live readers, and read its
    /// folder's git metadata when git parsing is on (PM2 does it at every online).
    fn announce(&mut self, why: Option<&str>) {
        match why {
            Some(why) => tracing::info!("App [{}] online ({why})", self.label()),
            None => tracing::info!("App [{}] online", self.label()),
        }
        self.event("online");
        if self.settings.git_parsing {
            let folder = super::versioning::folder_of(&self.info.spec.script);
            if self.versioning.start(folder) {
                self.info.vizion_running = true;
                self.publish();
            }
        }
    }
}
