/** Signs in through the login form, as a browser would, and returns the session cookie. */
export async function login(baseUrl: string, email: string, password: string): Promise<{ status: number; cookie: string | undefined; setCookie: string | null }> {
  const res = await fetch(`${baseUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: baseUrl },
    body: new URLSearchParams({ email, password }).toString(),
  });
  const setCookie = res.headers.get('set-cookie');
  const cookie = setCookie?.split(';')[0];
  await res.arrayBuffer();
  return { status: res.status, cookie, setCookie };
}
