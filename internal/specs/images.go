package specs

import (
	"fmt"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
)

// AppImage is the reference of the PHP image of a slot: images.app with the
// slot's tag, and its digest when one is given (repo:tag@sha256:…).
func AppImage(images v1alpha1.Images, slot v1alpha1.Slot) (string, error) {
	return slotImage("images.app", images.App, slot, false)
}

// WebImage is the reference of the nginx image of a slot: images.web with the
// slot's tag and digest, or images.web as is when it already carries a tag or
// digest (then both slots run the same nginx).
func WebImage(images v1alpha1.Images, slot v1alpha1.Slot) (string, error) {
	return slotImage("images.web", images.Web, slot, true)
}

func slotImage(field, repo string, slot v1alpha1.Slot, pinnedAsIs bool) (string, error) {
	parsed, err := reference.Parse(repo)
	if err != nil {
		return "", fmt.Errorf("%s %q is not an image reference: %w", field, repo, err)
	}
	named, ok := parsed.(reference.Named)
	if !ok {
		return "", fmt.Errorf("%s %q has no repository name", field, repo)
	}
	_, tagged := parsed.(reference.Tagged)
	_, digested := parsed.(reference.Digested)
	if tagged || digested {
		if pinnedAsIs {
			return parsed.String(), nil
		}
		return "", fmt.Errorf("%s %q is a repository: drop its tag or digest, the slot's tag is appended", field, repo)
	}
	ref, err := reference.WithTag(named, slot.Tag)
	if err != nil {
		return "", fmt.Errorf("tag %q: %w", slot.Tag, err)
	}
	if slot.Digest == "" {
		return ref.String(), nil
	}
	d, err := digest.Parse(slot.Digest)
	if err != nil {
		return "", fmt.Errorf("digest %q: %w", slot.Digest, err)
	}
	withDigest, err := reference.WithDigest(ref, d)
	if err != nil {
		return "", fmt.Errorf("digest %q: %w", slot.Digest, err)
	}
	return withDigest.String(), nil
}
