//! `pm2 ecosystem` / `pm2 init [simple]`: PM2's template `ecosystem.config.js`.

/// PM2's full template (`lib/templates/ecosystem.tpl`).
const FULL: &str = r#"module.exports = {
  apps : [{
    script: 'index.js',
    watch: '.'
  }, {
    script: './service-worker/',
    watch: ['./service-worker']
  }],

  deploy : {
    production : {
      user : 'SSH_USERNAME',
      host : 'SSH_HOSTMACHINE',
      ref  : 'origin/master',
      repo : 'GIT_REPOSITORY',
      path : 'DESTINATION_PATH',
      'pre-deploy-local': '',
      'post-deploy' : 'npm install && pm2 reload ecosystem.config.js --env production',
      'pre-setup': ''
    }
  }
};
"#;

/// PM2's short template (`lib/templates/ecosystem-simple.tpl`).
const SIMPLE: &str = r#"module.exports = {
  apps : [{
    name   : "app1",
    script : "./app.js"
  }]
}
"#;

/// PM2's template `ecosystem.config.js` (`simple` = the short one). Writing it (and refusing
/// to overwrite an existing file) is the caller's job.
pub fn ecosystem_template(simple: bool) -> &'static str {
    if simple {
        SIMPLE
    } else {
        FULL
    }
}
