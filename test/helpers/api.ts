/** A small client of our own HTTP API, as a firm's program would use it. */
export function apiClient(baseUrl: string, token: string) {
  const headers = { authorization: `Bearer ${token}` };
  const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as any });
  return {
    async upload(content: string | Uint8Array, opts: { filename?: string; mode?: 'apply' | 'dry_run' } = {}) {
      const form = new FormData();
      if (opts.mode) form.append('mode', opts.mode);
      form.append('file', new Blob([content as BlobPart]), opts.filename ?? 'import.csv');
      return json(await fetch(`${baseUrl}/api/v1/batches`, { method: 'POST', headers, body: form }));
    },
    async get(path: string) {
      return json(await fetch(`${baseUrl}/api/v1${path}`, { headers }));
    },
    async post(path: string) {
      return json(await fetch(`${baseUrl}/api/v1${path}`, { method: 'POST', headers }));
    },
    async raw(path: string) {
      return fetch(`${baseUrl}/api/v1${path}`, { headers });
    },
    /** Polls a batch until it has ended. */
    async waitFor(id: number, timeoutMs = 30_000) {
      const start = Date.now();
      for (;;) {
        const { body } = await this.get(`/batches/${id}`);
        if (!['queued', 'validating', 'applying'].includes(body.status)) return body;
        if (Date.now() - start > timeoutMs) throw new Error(`batch ${id} still ${body.status} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async uploadAndWait(content: string | Uint8Array, opts: { filename?: string; mode?: 'apply' | 'dry_run' } = {}) {
      const res = await this.upload(content, opts);
      if (res.status !== 202) throw new Error(`upload answered ${res.status}: ${JSON.stringify(res.body)}`);
      return this.waitFor(res.body.id);
    },
    async rows(id: number, query = '') {
      const all: any[] = [];
      let after: number | null = null;
      do {
        const { body } = await this.get(`/batches/${id}/rows?limit=1000${query}${after !== null ? `&after=${after}` : ''}`);
        all.push(...body.rows);
        after = body.next;
      } while (after !== null);
      return all;
    },
  };
}
