#!/bin/sh
# make-certs.sh DIR [HOST]: test certificates and -ssl_dist_optfile files
# for distribution over TLS, made with openssl.
#
#   ca.pem, ca.key            the cluster's CA
#   node.pem, node.key        signed by it; subjectAltName DNS:HOST,
#                             DNS:localhost, IP:127.0.0.1 (OTP 25 checks the
#                             host part of the node name: use --sname, HOST
#                             is this machine's short host name by default)
#   other-ca.pem, other.pem, other.key   a second CA and a node cert from it
#   dist.conf                 mutual TLS, verify_peer both ways
#   other.conf                the same with the other CA's certificate
#   server-only.conf          the node presents no client certificate
set -eu
dir=$1
host=${2:-$(hostname -s)}
mkdir -p "$dir"
cd "$dir"
days=2

ca() { # ca NAME CN
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" \
    -days $days -subj "/CN=$2" \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}

leaf() { # leaf NAME CA
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" \
    -subj "/CN=$host" 2>/dev/null
  printf 'subjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n' \
    "$host" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" \
    -CAcreateserial -out "$1.pem" -days $days -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

optfile() { # optfile FILE CERT CA [client certificate: yes|no]
  client_cert=
  if [ "${4:-yes}" = yes ]; then
    client_cert="{certfile, \"$dir/$2.pem\"}, {keyfile, \"$dir/$2.key\"},"
  fi
  cat >"$1" <<CONF
% -ssl_dist_optfile for the interop tests (made by make-certs.sh)
[{server, [{certfile, "$dir/$2.pem"}, {keyfile, "$dir/$2.key"},
           {cacertfile, "$dir/$3.pem"}, {verify, verify_peer},
           {fail_if_no_peer_cert, true}, {secure_renegotiate, true},
           {versions, ['tlsv1.2', 'tlsv1.3']}]},
 {client, [$client_cert
           {cacertfile, "$dir/$3.pem"}, {verify, verify_peer},
           {secure_renegotiate, true}]}].
CONF
}

dir=$(pwd)
ca ca "pga test CA"
leaf node ca
ca other-ca "another CA"
leaf other other-ca
optfile dist.conf node ca
optfile other.conf other other-ca
optfile server-only.conf node ca no
