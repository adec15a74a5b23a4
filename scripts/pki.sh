# Client certificates and kubeconfigs for kubepp's components, signed by the apiserver's
# CA with openssl. Sourced by `kubepp` and by the container entrypoint (docker/).

# pki_issue_client CA CAKEY DIR NAME SUBJECT SERVER
#   DIR/NAME.crt, DIR/NAME.key: an EC P-256 client certificate for SUBJECT ("/O=group/CN=user"),
#   valid a year; kept while newer than the CA and not expiring within 30 days.
#   DIR/NAME.kubeconfig: SERVER with that certificate, trusting CA (by path).
pki_issue_client() {
  local ca="$1" cakey="$2" dir="$3" name="$4" subject="$5" server="$6"
  local crt="$dir/$name.crt" key="$dir/$name.key"
  if ! { [ "$crt" -nt "$ca" ] && openssl x509 -in "$crt" -noout -checkend 2592000 >/dev/null 2>&1; }; then
    openssl req -new -x509 -CA "$ca" -CAkey "$cakey" -days 365 -subj "$subject" \
      -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$key.tmp" -out "$crt.tmp" \
      -addext "basicConstraints=critical,CA:FALSE" -addext "keyUsage=critical,digitalSignature" \
      -addext "extendedKeyUsage=clientAuth" 2>/dev/null ||
      { echo "openssl: cannot issue the certificate of $name" >&2; return 1; }
    chmod 600 "$key.tmp"
    mv "$key.tmp" "$key" && mv "$crt.tmp" "$crt"
  fi
  cat >"$dir/$name.kubeconfig.tmp" <<KC
apiVersion: v1
kind: Config
clusters:
- name: kubepp
  cluster: {server: "$server", certificate-authority: "$ca"}
users:
- name: $name
  user: {client-certificate: "$crt", client-key: "$key"}
contexts:
- name: kubepp
  context: {cluster: kubepp, user: $name}
current-context: kubepp
KC
  mv "$dir/$name.kubeconfig.tmp" "$dir/$name.kubeconfig"
}
