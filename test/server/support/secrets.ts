/** Every secret the server tests configure. The leak tests search all logs and responses for these. */
export const SECRET = 'binding-secret-Q7v2Lw9xT4pZk8Rm3Nc6Hy1Bd5Fs0Ga';
export const TOKEN_SECRET = 'identity-token-secret-uU3kP8wE2rT6yI9oA1sD4fG7hJ0l';
export const CLIENT_ID = 'proxy-client-id';
export const CLIENT_SECRET = 'oauth-client-secret-Zx81Vb27Nm54';
export const BASIC_USER = 'api-user';
export const BASIC_PASSWORD = 'basic-password-Pq93Wr06Ty';

export const ALL_SECRETS = [SECRET, TOKEN_SECRET, CLIENT_SECRET, BASIC_PASSWORD];
