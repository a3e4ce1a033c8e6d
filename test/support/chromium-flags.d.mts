export declare const CHROMIUM_FLAGS: readonly string[];
export declare function systemChromium(): string | undefined;
export declare function hostRulesFlag(hosts: readonly string[], blockOthers?: boolean): string;
