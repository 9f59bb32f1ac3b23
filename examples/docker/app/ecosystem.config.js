// The apps pm2-runtime starts in the container (examples/Dockerfile). The container's
// environment (NODE_ENV from the Dockerfile, PORT from `docker run -e PORT=...`) reaches
// the app, as under PM2.
module.exports = {
  apps: [
    {
      name: 'web',
      script: './app.js',
      exec_mode: 'cluster',
      instances: 2,
      env: {
        PORT: process.env.PORT || 3000,
      },
    },
  ],
};
