package router

import (
	"testing"
	"time"
)

func TestBreakerOpensAndProbes(t *testing.T) {
	now := time.Unix(0, 0)
	b := NewBreaker(3, 10*time.Second, func() time.Time { return now })
	for i := 0; i < 2; i++ {
		b.Failure()
	}
	if b.State() != Closed || !b.Allow() {
		t.Fatal("two failures must not open a breaker with threshold 3")
	}
	b.Failure()
	if b.State() != Open || b.Allow() {
		t.Fatal("third consecutive failure must open it")
	}
	now = now.Add(10 * time.Second)
	if b.State() != HalfOpen {
		t.Fatalf("after the cooldown it reads %s", b.State())
	}
	if !b.Allow() {
		t.Fatal("half-open must let one probe through")
	}
	if b.Allow() {
		t.Fatal("half-open must let only one probe through")
	}
	b.Failure()
	if b.State() != Open {
		t.Fatal("a failed probe reopens")
	}
	now = now.Add(10 * time.Second)
	b.Allow()
	b.Success()
	if b.State() != Closed || !b.Allow() || !b.Allow() {
		t.Fatal("a successful probe closes")
	}
}

func TestBreakerSuccessResetsCount(t *testing.T) {
	b := NewBreaker(2, time.Minute, nil)
	b.Failure()
	b.Success()
	b.Failure()
	if b.State() != Closed {
		t.Fatal("failures must be consecutive to open")
	}
}

func TestBreakerReleaseFreesProbe(t *testing.T) {
	now := time.Unix(0, 0)
	b := NewBreaker(1, time.Second, func() time.Time { return now })
	b.Failure()
	now = now.Add(time.Second)
	if !b.Allow() {
		t.Fatal("probe expected")
	}
	b.Release()
	if !b.Allow() {
		t.Fatal("a released probe must be available again")
	}
}
