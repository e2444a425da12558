import type { FC } from 'hono/jsx';
import { Layout } from './layout.tsx';

export const LoginPage: FC<{ nonce: string; email?: string; error?: string }> = ({ nonce, email, error }) => (
  <Layout title="Connexion" nonce={nonce}>
    <div class="narrow">
      <h1>Connexion</h1>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      <form method="post" action="/login">
        <label for="email">Adresse e-mail</label>
        <input id="email" name="email" type="email" autocomplete="username" required value={email ?? ''} />
        <label for="password">Mot de passe</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <button type="submit">Se connecter</button>
      </form>
    </div>
  </Layout>
);
