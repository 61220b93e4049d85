import { html } from "./html.ts";
import { adminPath } from "./layout.ts";

/** The only admin page open to everyone: it asks for the ADMIN_TOKEN and sets the admin cookie. */
export function loginPage(options: { failed: boolean; next: string }): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · Run Engine</title>
<link rel="stylesheet" href="${adminPath}/assets/admin.css"></head>
<body class="login"><main>
<h1>Run Engine operators</h1>
${options.failed ? html`<p class="error" role="alert">That is not the admin token.</p>` : ""}
<form method="post" action="${adminPath}/login">
<input type="hidden" name="next" value="${options.next}">
<label>Admin token <input type="password" name="token" autocomplete="current-password" autofocus required></label>
<button type="submit">Sign in</button>
</form>
<p class="muted">The token is the api's ADMIN_TOKEN. An environment API key is not accepted here.</p>
</main></body></html>`.value;
}
