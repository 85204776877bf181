// Init container of the kcp sidecar (runs with the hub image's Node): writes kcp's --token-auth-file from the
// kcp-admin-token key of the tokens Secret, so the Secret holds only the two raw tokens and the token never appears
// in an argument. One line: token,user,uid,"groups" — the hub's admin identity in group system:kcp:admin.
const fs = require('node:fs');
const source = '/etc/kedge/secrets/kcp-admin-token';
const target = '/run/kedge/kcp-auth/tokens.csv';
const token = fs.readFileSync(source, 'utf8').trim();
if (!/^[A-Za-z0-9._~+/=-]{16,}$/.test(token)) {
  console.error(
    `${source}: the kcp admin token must be 16 or more characters of A-Z a-z 0-9 . _ ~ + / = - (no commas, quotes or spaces)`,
  );
  process.exit(1);
}
fs.writeFileSync(target, `${token},kedge-hub,kedge-hub,"system:kcp:admin"\n`, { mode: 0o600 });
console.log(`wrote ${target}`);
