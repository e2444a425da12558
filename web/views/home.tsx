import type { FC } from 'hono/jsx';
import type { Actor } from '../../src/users/user.repository.ts';
import { Layout } from './layout.tsx';
import { BatchList, type ListedBatch } from './batch-list.tsx';

export const UploadForm: FC<{ error?: string; maxMb: number }> = ({ error, maxMb }) => (
  <section class="card" aria-labelledby="upload-title">
    <h2 id="upload-title">Déposer un fichier</h2>
    <p>
      Un fichier CSV (séparateur « ; », « , » ou tabulation ; UTF-8 ou Windows-1252, comme l’écrit Excel), {maxMb} Mo au
      plus. <a href="/modele.csv" download>Télécharger le modèle de fichier</a>.
    </p>
    {error ? (
      <p class="error" role="alert">
        {error}
      </p>
    ) : null}
    <form method="post" action="/batches" enctype="multipart/form-data" class="upload">
      <label for="file">Fichier CSV</label>
      <input id="file" name="file" type="file" accept=".csv,.txt,text/csv,text/plain" required />
      <fieldset>
        <legend>Que faire du fichier ?</legend>
        <div class="choice">
          <input id="mode-apply" type="radio" name="mode" value="apply" checked />
          <label for="mode-apply">Importer : appliquer les ajouts et suppressions au portefeuille</label>
        </div>
        <div class="choice">
          <input id="mode-dry-run" type="radio" name="mode" value="dry_run" />
          <label for="mode-dry-run">Simuler : voir le résultat sans rien changer (vous pourrez l’appliquer ensuite)</label>
        </div>
      </fieldset>
      <button type="submit">Envoyer le fichier</button>
    </form>
  </section>
);

export const HomePage: FC<{
  nonce: string;
  actor: Actor;
  batches: ListedBatch[];
  next: number | null;
  after?: number;
  error?: string;
  maxMb: number;
}> = ({ nonce, actor, batches, next, after, error, maxMb }) => (
  <Layout title="Lots" nonce={nonce} actor={actor} section="batches">
    <h1>Import de clients dans le portefeuille</h1>
    <UploadForm error={error} maxMb={maxMb} />
    <section aria-labelledby="batches-title">
      <h2 id="batches-title">Vos lots</h2>
      <BatchList
        batches={batches}
        next={next}
        pollUrl={`/batches/list${after ? `?after=${after}` : ''}`}
        pageUrl={(n) => `/?after=${n}`}
      />
    </section>
  </Layout>
);
