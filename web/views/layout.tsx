import type { FC, PropsWithChildren } from 'hono/jsx';
import type { Actor } from '../../src/users/user.repository.ts';

type Section = 'batches' | 'portfolio' | 'admin';

export const Layout: FC<PropsWithChildren<{ title: string; nonce: string; actor?: Actor; section?: Section }>> = ({
  title,
  nonce,
  actor,
  section,
  children,
}) => (
  <html lang="fr">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="htmx-config" content='{"selfRequestsOnly":true,"allowScriptTags":false,"allowEval":false,"includeIndicatorStyles":false,"attributesToSettle":["class","width","height"]}' />
      <title>{title} · Import de portefeuille</title>
      <link rel="stylesheet" href="/static/app.css" />
      <script src="/static/htmx.min.js" nonce={nonce} defer></script>
    </head>
    <body>
      <a href="#contenu" class="skip">Aller au contenu</a>
      <header class="top">
        <a href="/" class="brand">Import de portefeuille</a>
        {actor ? (
          <nav aria-label="Navigation principale">
            <a href="/" aria-current={section === 'batches' ? 'page' : undefined}>Lots</a>
            <a href="/portefeuille" aria-current={section === 'portfolio' ? 'page' : undefined}>Portefeuille</a>
            {actor.isAdmin ? (
              <a href="/admin" aria-current={section === 'admin' ? 'page' : undefined}>Administration</a>
            ) : null}
            <span class="who">
              {actor.email} · {actor.declarantName}
            </span>
            <form method="post" action="/logout" class="inline">
              <button type="submit" class="link">Se déconnecter</button>
            </form>
          </nav>
        ) : null}
      </header>
      <main id="contenu">{children}</main>
    </body>
  </html>
);

/** A whole page for a status people can meet: 404 (missing or another firm's), 409, 410, 413. */
export const MessagePage: FC<{ title: string; message: string; nonce: string; actor?: Actor; back?: { href: string; label: string } }> = ({
  title,
  message,
  nonce,
  actor,
  back,
}) => (
  <Layout title={title} nonce={nonce} actor={actor}>
    <h1>{title}</h1>
    <p>{message}</p>
    <p>
      <a href={back?.href ?? '/'}>{back?.label ?? 'Retour à l’accueil'}</a>
    </p>
  </Layout>
);
