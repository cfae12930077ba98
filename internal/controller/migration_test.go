package controller

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/specs"
	"github.com/magento-operator/magento-operator/test/builder"
)

var _ = Describe("Migrations and post-switch Jobs", func() {
	var rel *v1alpha1.MagentoRelease

	BeforeEach(func() {
		rel = builder.MakeRelease(newNamespace(), "shop").Migration().PostSwitch("php", "bin/magento", "cache:clean", "full_page").Obj()
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		settle(rel)
		Expect(jobNames(rel, specs.Migration)).To(BeEmpty(), "the first rollout runs no migration")
		Expect(get(rel).Status.Blue.Migrated).To(BeTrue())
	})

	migrationJob := func(name string) *batchv1.Job {
		j := &batchv1.Job{}
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: rel.Namespace, Name: name}, j); err != nil {
			return nil
		}
		return j
	}

	It("runs the migration once the target is ready and moves traffic only after it succeeded", func() {
		name := deployAndSwitch(rel, "release-2", "")
		Consistently(func() *batchv1.Job { return migrationJob(name) }, 2*resync, interval).Should(BeNil(),
			"the migration started before the target was ready")
		rollOutSlot(rel, v1alpha1.Green)
		Eventually(func() *batchv1.Job { return migrationJob(name) }, timeout, interval).ShouldNot(BeNil())
		j := migrationJob(name)
		c := j.Spec.Template.Spec.Containers[0]
		Expect(c.Image).To(Equal(builder.Registry + "/php:release-2"))
		Expect(c.Command).To(Equal(specs.DefaultMigrationCommand))
		Expect(*j.Spec.BackoffLimit).To(BeEquivalentTo(1))
		Expect(j.Labels).To(HaveKeyWithValue(specs.LabelComponent, "migration"))
		Consistently(func() string { return servicesColor(rel) }, 2*resync, interval).Should(Equal("blue"))
		Expect(condition(rel, v1alpha1.ConditionProgressing).Message).To(ContainSubstring("migration Job " + name + " is running"))

		jobPod(rel, name, 0, "setup:db:status: exit 2, running setup:upgrade --keep-generated\n"+
			"setup:upgrade --keep-generated: done\napp:config:status: exit 0, config is current\n")
		finishJob(rel, name, true)
		Eventually(func() string { return servicesColor(rel) }, timeout, interval).Should(Equal("green"))
		Expect(get(rel).Status.Green.MigrationOutput).To(Equal("exit 0: setup:db:status: exit 2, running setup:upgrade --keep-generated / " +
			"setup:upgrade --keep-generated: done / app:config:status: exit 0, config is current"))
		Eventually(func() []string { return eventReasons(rel) }, timeout, interval).Should(ContainElement("Migrated"))
		Eventually(func() any { return get(rel).Status.Green.Migrated }, timeout, interval).Should(BeTrue())
		settle(rel)

		By("switching back and forth to the same versions runs nothing again")
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Blue })
		Eventually(func() string { return servicesColor(rel) }, timeout, interval).Should(Equal("blue"))
		settle(rel)
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
		Eventually(func() string { return servicesColor(rel) }, timeout, interval).Should(Equal("green"))
		settle(rel)
		Expect(jobNames(rel, specs.Migration)).To(ConsistOf(name))
	})

	It("holds the switch when the migration fails, and a new revision retries", func() {
		name := deployAndSwitch(rel, "release-3", "")
		rollOutSlot(rel, v1alpha1.Green)
		Eventually(func() *batchv1.Job { return migrationJob(name) }, timeout, interval).ShouldNot(BeNil())
		jobPod(rel, name, 1, "setup:db:status: failed with exit 1\n")
		finishJob(rel, name, false)
		Eventually(func() *metav1.Condition { return condition(rel, v1alpha1.ConditionDegraded) }, timeout, interval).
			Should(And(HaveField("Status", metav1.ConditionTrue), HaveField("Reason", "MigrationFailed"),
				HaveField("Message", ContainSubstring("failed: exit 1: setup:db:status: failed with exit 1; BackoffLimitExceeded"))))
		Expect(condition(rel, v1alpha1.ConditionDegraded).Message).To(ContainSubstring(name))
		Expect(get(rel).Status.Green.MigrationFailed).To(BeTrue())
		Eventually(func() []string { return eventReasons(rel) }, timeout, interval).Should(ContainElement("Degraded"))
		Consistently(func() string { return servicesColor(rel) }, 2*resync, interval).Should(Equal("blue"))

		By("cleaning up the failed Job does not rerun it")
		Expect(k8sClient.Delete(ctx, migrationJob(name), client.PropagationPolicy(metav1.DeletePropagationBackground))).To(Succeed())
		Consistently(func() []string { return jobNames(rel, specs.Migration) }, 2*resync, interval).Should(BeEmpty())

		By("following the operator's advice literally: one update of the target retries with a new Job")
		Expect(condition(rel, v1alpha1.ConditionDegraded).Message).To(ContainSubstring("deploy a new tag, digest or revision to green to retry"))
		retry := deployAndSwitch(rel, "release-3", "2")
		Expect(retry).NotTo(Equal(name))
		Eventually(func() *batchv1.Job { rollOutAll(rel); return migrationJob(retry) }, timeout, interval).ShouldNot(BeNil())
		finishJob(rel, retry, true)
		Eventually(func() string { return servicesColor(rel) }, timeout, interval).Should(Equal("green"))
		Eventually(func() string { return string(condition(rel, v1alpha1.ConditionDegraded).Status) }, timeout, interval).Should(Equal("False"))
	})

	It("does not rerun a finished migration after a restart, even with its Job cleaned up", func() {
		name := deployAndSwitch(rel, "release-4", "")
		rollOutSlot(rel, v1alpha1.Green)
		Eventually(func() *batchv1.Job { return migrationJob(name) }, timeout, interval).ShouldNot(BeNil())
		finishJob(rel, name, true)
		Eventually(func() string { return servicesColor(rel) }, timeout, interval).Should(Equal("green"))
		settle(rel)
		Expect(k8sClient.Delete(ctx, migrationJob(name), client.PropagationPolicy(metav1.DeletePropagationBackground))).To(Succeed())

		By("a new operator process, reading everything from the API server, reconciles")
		fresh := &MagentoReleaseReconciler{Client: k8sClient, APIReader: k8sClient, Clock: fakeClock}
		for range 3 {
			_, err := fresh.Reconcile(ctx, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(rel)})
			Expect(err).NotTo(HaveOccurred())
		}
		Consistently(func() []string { return jobNames(rel, specs.Migration) }, 2*resync, interval).Should(BeEmpty())
		Expect(servicesColor(rel)).To(Equal("green"))
	})

	It("runs the post-switch Job exactly once per switch, with the new slot's image", func() {
		rel.Spec.Migration = nil
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.Migration = nil })
		deployAndSwitch(rel, "release-5", "")
		rollOutSlot(rel, v1alpha1.Green)
		Eventually(func() string { return servicesColor(rel) }, timeout, interval).Should(Equal("green"))
		Eventually(func() []string { return jobNames(rel, specs.PostSwitch) }, timeout, interval).Should(HaveLen(1))
		first := jobNames(rel, specs.PostSwitch)[0]
		// The Job is created in the reconcile that records it in status: wait for the write.
		Eventually(func() string { return get(rel).Status.PostSwitchJob }, timeout, interval).Should(Equal(first))
		j := &batchv1.Job{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: rel.Namespace, Name: first}, j)).To(Succeed())
		Expect(j.Spec.Template.Spec.Containers[0].Image).To(Equal(builder.Registry + "/php:release-5"))
		Expect(j.Spec.Template.Spec.Containers[0].Command).To(Equal([]string{"php", "bin/magento", "cache:clean", "full_page"}))
		settle(rel)
		Consistently(func() []string { return jobNames(rel, specs.PostSwitch) }, 2*resync, interval).Should(HaveLen(1))

		By("its failure is reported and changes nothing else")
		finishJob(rel, first, false)
		Eventually(func() string { return condition(rel, v1alpha1.ConditionReady).Message }, timeout, interval).
			Should(ContainSubstring("post-switch Job " + first + " failed"))
		Expect(condition(rel, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
		Expect(condition(rel, v1alpha1.ConditionDegraded).Status).To(Equal(metav1.ConditionFalse))
		Eventually(func() []string { return eventReasons(rel) }, timeout, interval).Should(ContainElement("PostSwitchFailed"))

		By("the next switch runs its own Job")
		change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Blue })
		Eventually(func() string { return servicesColor(rel) }, timeout, interval).Should(Equal("blue"))
		Eventually(func() []string { return jobNames(rel, specs.PostSwitch) }, timeout, interval).Should(HaveLen(2))
		settle(rel)
		time.Sleep(2 * resync)
		Expect(jobNames(rel, specs.PostSwitch)).To(HaveLen(2))
	})
})
