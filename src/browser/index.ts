// Placeholder entry: replaced by the module's implementation.
export {};
