package specs

import (
	"strings"
	"testing"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
)

const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestSlotImages(t *testing.T) {
	tests := map[string]struct {
		app, web     string
		slot         v1alpha1.Slot
		wantApp      string
		wantWeb      string
		wantErrApp   string
		wantErrWebIs string
	}{
		"ECR repositories": {
			app:     "123456789.dkr.ecr.eu-west-1.amazonaws.com/magento-php-fpm",
			web:     "123456789.dkr.ecr.eu-west-1.amazonaws.com/magento-nginx",
			slot:    v1alpha1.Slot{Tag: "main-e4f5g6h"},
			wantApp: "123456789.dkr.ecr.eu-west-1.amazonaws.com/magento-php-fpm:main-e4f5g6h",
			wantWeb: "123456789.dkr.ecr.eu-west-1.amazonaws.com/magento-nginx:main-e4f5g6h",
		},
		"registry with a port": {
			app:     "registry.local:5000/shop/php",
			web:     "registry.local:5000/shop/nginx",
			slot:    v1alpha1.Slot{Tag: "v1.2.3"},
			wantApp: "registry.local:5000/shop/php:v1.2.3",
			wantWeb: "registry.local:5000/shop/nginx:v1.2.3",
		},
		"localhost with a port": {
			app:     "localhost:5000/php",
			web:     "localhost:5000/nginx",
			slot:    v1alpha1.Slot{Tag: "dev"},
			wantApp: "localhost:5000/php:dev",
			wantWeb: "localhost:5000/nginx:dev",
		},
		"digest pins both images": {
			app:     "registry.local:5000/shop/php",
			web:     "registry.local:5000/shop/nginx",
			slot:    v1alpha1.Slot{Tag: "v1", Digest: testDigest},
			wantApp: "registry.local:5000/shop/php:v1@" + testDigest,
			wantWeb: "registry.local:5000/shop/nginx:v1@" + testDigest,
		},
		"web image with its own tag is used as is": {
			app:     "shop/php",
			web:     "nginx:1.27-alpine",
			slot:    v1alpha1.Slot{Tag: "feature-xyz-abc1234"},
			wantApp: "shop/php:feature-xyz-abc1234",
			wantWeb: "nginx:1.27-alpine",
		},
		"web image with its own digest is used as is": {
			app:     "shop/php",
			web:     "nginx@" + testDigest,
			slot:    v1alpha1.Slot{Tag: "t", Digest: testDigest},
			wantApp: "shop/php:t@" + testDigest,
			wantWeb: "nginx@" + testDigest,
		},
		"web image on a registry port with a tag": {
			app:     "registry.local:5000/php",
			web:     "registry.local:5000/nginx:stable",
			slot:    v1alpha1.Slot{Tag: "t"},
			wantApp: "registry.local:5000/php:t",
			wantWeb: "registry.local:5000/nginx:stable",
		},
		"docker hub short names stay short": {
			app:     "php",
			web:     "nginx",
			slot:    v1alpha1.Slot{Tag: "8.3-fpm"},
			wantApp: "php:8.3-fpm",
			wantWeb: "nginx:8.3-fpm",
		},
		"app with a tag is refused": {
			app:        "shop/php:latest",
			web:        "nginx",
			slot:       v1alpha1.Slot{Tag: "t"},
			wantErrApp: "drop its tag or digest",
			wantWeb:    "nginx:t",
		},
		"upper-case repository is refused": {
			app:          "Shop/PHP",
			web:          "Shop/Nginx",
			slot:         v1alpha1.Slot{Tag: "t"},
			wantErrApp:   "not an image reference",
			wantErrWebIs: "not an image reference",
		},
		"bad tag is refused": {
			app:          "shop/php",
			web:          "shop/nginx",
			slot:         v1alpha1.Slot{Tag: "-bad"},
			wantErrApp:   `tag "-bad"`,
			wantErrWebIs: `tag "-bad"`,
		},
		"bad digest is refused": {
			app:          "shop/php",
			web:          "shop/nginx",
			slot:         v1alpha1.Slot{Tag: "t", Digest: "sha256:abc"},
			wantErrApp:   `digest "sha256:abc"`,
			wantErrWebIs: `digest "sha256:abc"`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			images := v1alpha1.Images{App: tc.app, Web: tc.web}
			check := func(what string, got string, err error, want, wantErr string) {
				t.Helper()
				if wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), wantErr) {
						t.Fatalf("%s: error %v, want one containing %q", what, err, wantErr)
					}
					return
				}
				if err != nil {
					t.Fatalf("%s: unexpected error %v", what, err)
				}
				if got != want {
					t.Fatalf("%s: got %q, want %q", what, got, want)
				}
			}
			app, err := AppImage(images, tc.slot)
			check("app", app, err, tc.wantApp, tc.wantErrApp)
			web, err := WebImage(images, tc.slot)
			check("web", web, err, tc.wantWeb, tc.wantErrWebIs)
		})
	}
}
