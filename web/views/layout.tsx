import type { FC, PropsWithChildren } from 'hono/jsx';
import type { Actor } from '../../src/users/user.repository.ts';

export const Layout: FC<PropsWithChildren<{ title: string; nonce: string; actor?: Actor }>> = ({ title, nonce, actor, children }) => (
  <html lang="fr">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="htmx-config" content='{"selfRequestsOnly":true,"allowScriptTags":false,"allowEval":false,"includeIndicatorStyles":false}' />
      <title>{title} · Import de portefeuille</title>
      <link rel="stylesheet" href="/static/app.css" />
      <script src="/static/htmx.min.js" nonce={nonce} defer></script>
    </head>
    <body>
      <header class="top">
        <a href="/" class="brand">Import de portefeuille</a>
        {actor ? (
          <nav>
            <span>{actor.email} · {actor.declarantName}</span>
            <form method="post" action="/logout" class="inline">
              <button type="submit" class="link">Se déconnecter</button>
            </form>
          </nav>
        ) : null}
      </header>
      {children}
    </body>
  </html>
);
