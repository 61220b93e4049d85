import { bullBoardPath } from "../bullBoard.ts";
import { html, type SafeHtml } from "./html.ts";

export const adminPath = "/admin";

export type Section = "runs" | "queues" | "bulk" | "none";

const sections: { section: Section; path: string; label: string }[] = [
  { section: "runs", path: `${adminPath}/runs`, label: "Runs" },
  { section: "queues", path: `${adminPath}/run-queues`, label: "Run queues" },
  { section: "bulk", path: `${adminPath}/bulk-actions`, label: "Bulk actions" },
];

/** Every admin page: its assets (served by the api, never a CDN), the navigation, and a link to Bull Board. */
export function page(title: string, section: Section, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Run Engine</title>
<link rel="stylesheet" href="${adminPath}/assets/admin.css">
<script src="${adminPath}/assets/admin.js" defer></script>
</head>
<body>
<header>
<strong class="brand">Run Engine</strong>
<nav>
${sections.map((entry) => html`<a href="${entry.path}" class="${entry.section === section ? "active" : ""}">${entry.label}</a>`)}
<a href="${bullBoardPath}">Bull Board (jobs)</a>
</nav>
<form method="post" action="${adminPath}/logout" class="logout"><button type="submit">Sign out</button></form>
</header>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>`.value;
}
