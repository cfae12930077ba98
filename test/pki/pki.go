// Package pki makes the certificates the test clusters (test/simcluster,
// test/realcluster) run on: a certificate authority made on the spot, the
// certificates it signs and a service-account key. Nothing it signs leaves
// this machine.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Authority is a certificate authority made on the spot; nothing it signs
// leaves this machine.
type Authority struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func newKey() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

// NewAuthority makes a CA and writes <name>.crt and <name>.key into dir.
func NewAuthority(dir, name string) (*Authority, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	ca := &Authority{cert: cert, key: key}
	return ca, writePair(dir, name, der, key)
}

// Issue signs a certificate for a client (user, groups) or a server (hosts),
// writes <name>.crt and <name>.key into dir, and returns the PEM of both.
func (ca *Authority) Issue(dir, name, user string, groups []string, hosts []string) (certPEM, keyPEM []byte, err error) {
	key, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: user, Organization: groups},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if len(hosts) > 0 {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
		for _, h := range hosts {
			if ip := net.ParseIP(h); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return nil, nil, err
	}
	if err := writePair(dir, name, der, key); err != nil {
		return nil, nil, err
	}
	certPEM, err = os.ReadFile(filepath.Join(dir, name+".crt"))
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err = os.ReadFile(filepath.Join(dir, name+".key"))
	return certPEM, keyPEM, err
}

func writePair(dir, name string, der []byte, key crypto.Signer) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
}

// WriteServiceAccountKey writes the RSA key pair that signs service-account tokens.
func WriteServiceAccountKey(dir string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "sa.key"),
		pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600)
}

// Client is an identity a kubeconfig is issued for.
type Client struct {
	// Name names the files: <name>.crt, <name>.key, <name>.kubeconfig.
	Name   string
	User   string
	Groups []string
}

// WriteKubeconfigs issues each client a certificate and writes
// <dir>/<name>.kubeconfig, which reaches server as that client in a
// context named cluster; it returns the kubeconfigs' paths by client name.
func (ca *Authority) WriteKubeconfigs(dir, cluster, server string, clients ...Client) (map[string]string, error) {
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})
	paths := map[string]string{}
	for _, cl := range clients {
		certPEM, keyPEM, err := ca.Issue(dir, cl.Name, cl.User, cl.Groups, nil)
		if err != nil {
			return nil, err
		}
		cfg := clientcmdapi.NewConfig()
		cfg.Clusters[cluster] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
		cfg.AuthInfos[cl.Name] = &clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM}
		cfg.Contexts[cluster] = &clientcmdapi.Context{Cluster: cluster, AuthInfo: cl.Name, Namespace: "default"}
		cfg.CurrentContext = cluster
		paths[cl.Name] = filepath.Join(dir, cl.Name+".kubeconfig")
		if err := clientcmd.WriteToFile(*cfg, paths[cl.Name]); err != nil {
			return nil, err
		}
	}
	return paths, nil
}
