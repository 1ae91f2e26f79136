// Preload entry point: `node --import livetrace/register` or `--require livetrace/register`.
export {};
