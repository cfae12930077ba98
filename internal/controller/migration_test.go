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
	"github.com/magento-operator/magento-operator/internal/testenv/suite"
	"github.com/magento-operator/magento-operator/test/builder"
)

var _ = Describe("Migrations and post-switch Jobs", func() {
	var rel *v1alpha1.MagentoRelease

	BeforeEach(func() {
		rel = builder.MakeRelease(env.NewNamespace(), "shop").Migration().PostSwitch("php", "bin/magento", "cache:clean", "full_page").Obj()
		Expect(env.Client.Create(env.Ctx, rel)).To(Succeed())
		env.Settle(rel)
		Expect(env.JobNames(rel, specs.Migration)).To(BeEmpty(), "the first rollout runs no migration")
		Expect(env.Get(rel).Status.Blue.Migrated).To(BeTrue())
	})

	migrationJob := func(name string) *batchv1.Job {
		j := &batchv1.Job{}
		if err := env.Client.Get(env.Ctx, client.ObjectKey{Namespace: rel.Namespace, Name: name}, j); err != nil {
			return nil
		}
		return j
	}

	It("runs the migration once the target is ready and moves traffic only after it succeeded", func() {
		name := env.DeployAndSwitch(rel, "release-2", "")
		Consistently(func() *batchv1.Job { return migrationJob(name) }, 2*suite.Resync).Should(BeNil(),
			"the migration started before the target was ready")
		env.RollOutSlot(rel, v1alpha1.Green)
		Eventually(func() *batchv1.Job { return migrationJob(name) }).ShouldNot(BeNil())
		j := migrationJob(name)
		c := j.Spec.Template.Spec.Containers[0]
		Expect(c.Image).To(Equal(builder.Registry + "/php:release-2"))
		Expect(c.Command).To(Equal(specs.DefaultMigrationCommand))
		Expect(*j.Spec.BackoffLimit).To(BeEquivalentTo(1))
		Expect(j.Labels).To(HaveKeyWithValue(specs.LabelComponent, "migration"))
		Consistently(func() string { return env.ServicesColor(rel) }, 2*suite.Resync).Should(Equal("blue"))
		Expect(env.Condition(rel, v1alpha1.ConditionProgressing).Message).To(ContainSubstring("migration Job " + name + " is running"))

		env.JobPod(rel, name, 0, "setup:db:status: exit 2, running setup:upgrade --keep-generated\n"+
			"setup:upgrade --keep-generated: done\napp:config:status: exit 0, config is current\n")

		env.FinishJob(rel, name, true)
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("green"))
		Expect(env.Get(rel).Status.Green.MigrationOutput).To(Equal("exit 0: setup:db:status: exit 2, running setup:upgrade --keep-generated / " +
			"setup:upgrade --keep-generated: done / app:config:status: exit 0, config is current"))
		Eventually(func() []string { return env.EventReasons(rel) }).Should(ContainElement("Migrated"))
		Eventually(func() any { return env.Get(rel).Status.Green.Migrated }).Should(BeTrue())
		env.Settle(rel)

		By("switching back and forth to the same versions runs nothing again")
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Blue })
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("blue"))
		env.Settle(rel)
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Green })
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("green"))
		env.Settle(rel)
		Expect(env.JobNames(rel, specs.Migration)).To(ConsistOf(name))
	})

	It("holds the switch when the migration fails, and a new revision retries", func() {
		name := env.DeployAndSwitch(rel, "release-3", "")
		env.RollOutSlot(rel, v1alpha1.Green)
		Eventually(func() *batchv1.Job { return migrationJob(name) }).ShouldNot(BeNil())
		env.JobPod(rel, name, 1, "setup:db:status: failed with exit 1\n")
		env.FinishJob(rel, name, false)
		Eventually(func() *metav1.Condition { return env.Condition(rel, v1alpha1.ConditionDegraded) }).
			Should(And(HaveField("Status", metav1.ConditionTrue), HaveField("Reason", "MigrationFailed"),
				HaveField("Message", ContainSubstring("failed: exit 1: setup:db:status: failed with exit 1; BackoffLimitExceeded"))))
		Expect(env.Condition(rel, v1alpha1.ConditionDegraded).Message).To(ContainSubstring(name))
		Expect(env.Get(rel).Status.Green.MigrationFailed).To(BeTrue())
		Eventually(func() []string { return env.EventReasons(rel) }).Should(ContainElement("Degraded"))
		Consistently(func() string { return env.ServicesColor(rel) }, 2*suite.Resync).Should(Equal("blue"))

		By("cleaning up the failed Job does not rerun it")
		Expect(env.Client.Delete(env.Ctx, migrationJob(name), client.PropagationPolicy(metav1.DeletePropagationBackground))).To(Succeed())
		Consistently(func() []string { return env.JobNames(rel, specs.Migration) }, 2*suite.Resync).Should(BeEmpty())

		By("following the operator's advice literally: one update of the target retries with a new Job")
		Expect(env.Condition(rel, v1alpha1.ConditionDegraded).Message).To(ContainSubstring("deploy a new tag, digest or revision to green to retry"))
		retry := env.DeployAndSwitch(rel, "release-3", "2")
		Expect(retry).NotTo(Equal(name))
		Eventually(func() *batchv1.Job { env.RollOutAll(rel); return migrationJob(retry) }).ShouldNot(BeNil())
		env.FinishJob(rel, retry, true)
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("green"))
		Eventually(func() string { return string(env.Condition(rel, v1alpha1.ConditionDegraded).Status) }).Should(Equal("False"))
	})

	It("does not rerun a finished migration after a restart, even with its Job cleaned up", func() {
		name := env.DeployAndSwitch(rel, "release-4", "")
		env.RollOutSlot(rel, v1alpha1.Green)
		Eventually(func() *batchv1.Job { return migrationJob(name) }).ShouldNot(BeNil())
		env.FinishJob(rel, name, true)
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("green"))
		env.Settle(rel)
		Expect(env.Client.Delete(env.Ctx, migrationJob(name), client.PropagationPolicy(metav1.DeletePropagationBackground))).To(Succeed())

		By("a new operator process, reading everything from the API server, reconciles")
		fresh := &MagentoReleaseReconciler{Client: env.Client, APIReader: env.Client, Clock: env.Clock}
		for range 3 {
			_, err := fresh.Reconcile(env.Ctx, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(rel)})
			Expect(err).NotTo(HaveOccurred())
		}
		Consistently(func() []string { return env.JobNames(rel, specs.Migration) }, 2*suite.Resync).Should(BeEmpty())
		Expect(env.ServicesColor(rel)).To(Equal("green"))
	})

	It("runs the post-switch Job exactly once per switch, with the new slot's image", func() {
		rel.Spec.Migration = nil
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.Migration = nil })
		env.DeployAndSwitch(rel, "release-5", "")
		env.RollOutSlot(rel, v1alpha1.Green)
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("green"))
		Eventually(func() []string { return env.JobNames(rel, specs.PostSwitch) }).Should(HaveLen(1))
		first := env.JobNames(rel, specs.PostSwitch)[0]
		// The Job is created in the reconcile that records it in status: wait for the write.
		Eventually(func() string { return env.Get(rel).Status.PostSwitchJob }).Should(Equal(first))
		j := &batchv1.Job{}
		Expect(env.Client.Get(env.Ctx, client.ObjectKey{Namespace: rel.Namespace, Name: first}, j)).To(Succeed())
		Expect(j.Spec.Template.Spec.Containers[0].Image).To(Equal(builder.Registry + "/php:release-5"))
		Expect(j.Spec.Template.Spec.Containers[0].Command).To(Equal([]string{"php", "bin/magento", "cache:clean", "full_page"}))
		env.Settle(rel)
		Consistently(func() []string { return env.JobNames(rel, specs.PostSwitch) }, 2*suite.Resync).Should(HaveLen(1))

		By("its failure is reported and changes nothing else")
		env.FinishJob(rel, first, false)
		Eventually(func() string { return env.Condition(rel, v1alpha1.ConditionReady).Message }).
			Should(ContainSubstring("post-switch Job " + first + " failed"))
		Expect(env.Condition(rel, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
		Expect(env.Condition(rel, v1alpha1.ConditionDegraded).Status).To(Equal(metav1.ConditionFalse))
		Eventually(func() []string { return env.EventReasons(rel) }).Should(ContainElement("PostSwitchFailed"))

		By("the next switch runs its own Job")
		env.Change(rel, func(r *v1alpha1.MagentoRelease) { r.Spec.ActiveColor = v1alpha1.Blue })
		Eventually(func() string { return env.ServicesColor(rel) }).Should(Equal("blue"))
		Eventually(func() []string { return env.JobNames(rel, specs.PostSwitch) }).Should(HaveLen(2))
		env.Settle(rel)
		time.Sleep(2 * suite.Resync)
		Expect(env.JobNames(rel, specs.PostSwitch)).To(HaveLen(2))
	})
})
