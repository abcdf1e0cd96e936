// Jest setup adapted from the Grafana scaffolding (see .config/README.md)
import './.config/jest-setup';
