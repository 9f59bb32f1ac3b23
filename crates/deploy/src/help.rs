//! `pm2 deploy help`: the verbs and the config keys, in one screen.

/// The help text (stdout, exit 0, as PM2).
pub const HELP: &str = "\
Usage: pm2 deploy <file> <env> [action] [--force] [--parallel N]

Actions:
  setup                run remote setup (folders, clone, current link); safe to run again
  (none), update       deploy the environment's ref to every host
  ref <ref>            deploy this ref instead
  revert [n]           go back n deploys in the history (default 1)
  curr[ent]            the commit each host has checked out
  prev[ious]           the commit `revert 1` would go back to
  list                 the deploy history, newest first (numbered as revert counts)
  exec|run <cmd>       run <cmd> on every host, in <path>/current

Options:
  --force              deploy even with uncommitted or unpushed local changes
  --parallel N         at most N hosts at a time (default: all)

  pm2 deploy <file>    lists the file's environments

The deploy.<env> keys: user, host (string or list), port, key, ssh_options (string or
list), ref, repo, path (absolute), fetch ('fast'), forward-agent, env, releases (N: build
each deploy in its own folder, keep N, move current only after post-deploy succeeded),
and the hooks pre-setup, post-setup, pre-deploy-local (local), pre-deploy, post-deploy.

Examples:
  pm2 deploy ecosystem.config.js production setup
  pm2 deploy ecosystem.config.js production
  pm2 deploy ecosystem.config.js production revert 2
  pm2 deploy ecosystem.config.js production exec \"pm2 reload all\"
";
