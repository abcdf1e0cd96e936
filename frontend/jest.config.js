// force timezone to UTC to allow tests to work regardless of local timezone
process.env.TZ = 'UTC';

module.exports = {
  // Jest configuration adapted from the Grafana scaffolding (see .config/README.md)
  ...require('./.config/jest.config'),
};
