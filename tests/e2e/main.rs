//! End-to-end tests of the real `pm2` binary: one test binary (as ripgrep does), one module
//! per area, one shared [`harness`]. Fixture apps live in `tests/e2e/fixtures`.
//!
//! Tests that need a tool beyond the toolchain (Node 22, tmux, openssl, ...) are reported
//! as ignored, with the reason, when the build found no such tool, and fail under
//! `CI=true` (see `build.rs`).

mod harness;

mod cluster;
mod cluster_reload;
mod compat_commands;
mod completion;
mod daemon;
mod daemon_faults;
mod depends;
mod deploy;
mod deploy_safety;
mod dev;
mod docker_image;
mod ecosystem;
mod ecosystem_bounds;
mod ecosystem_errors;
mod env_file;
mod env_output;
mod env_overrides;
mod export;
mod health;
mod inspect;
mod install;
mod limits;
mod listen;
mod listen_notify;
mod listen_systemd;
mod logs_command;
mod logs_disk_full;
mod logs_gaps;
mod logs_pipe;
mod logs_relay;
mod logs_rotation;
mod logs_splice;
mod metrics_ipc;
mod modules;
mod modules_local;
mod modules_npm;
mod monit;
mod node_api;
mod node_ipc;
mod npm_package;
mod persistence;
mod plus;
mod plus_alerts;
mod plus_alerts_live;
mod plus_chart;
mod plus_history;
mod plus_link;
mod plus_link_issues;
mod plus_link_live;
mod plus_link_tls;
mod plus_readings;
mod plus_tls;
mod plus_tls_reload;
mod restart_options;
mod restart_policy;
mod run_as;
mod runtime;
mod sampling;
mod serve;
mod settings;
mod source_maps;
mod start;
mod startup;
mod state_journal;
mod stdin_monitor;
mod stop;
mod stop_tree;
mod targets;
mod triggers;
mod versioning;
mod views;
mod whole_tree;
