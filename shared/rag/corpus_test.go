package rag_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// The retrieval corpus: 200 runbooks of made-up services, each four passages
// (overview, setup, errors, on-call), and 50 questions whose answer is one known
// passage. The questions are of three kinds, each hard for a different reason:
//
//   - plain (20): a paraphrase of the passage — both searches should manage;
//   - misspelt (15): the service's name with a doubled letter ("Orrion"), as
//     people type it: no keyword matches it, its letter trigrams still do;
//   - codes (15): an error code and nothing else ("ORN-4417"), among codes of the
//     same service family made of the same digits: an exact keyword is decisive,
//     an embedding of letters and fragments barely tells them apart.
//
// Everything is derived from a fixed seed, so the numbers are the same each run.

var (
	families = []string{"Orion", "Vega", "Lyra", "Draco", "Cygnus", "Altair", "Rigel", "Sirius", "Pavo", "Carina",
		"Hydra", "Lupus", "Norma", "Volans", "Corvus", "Mensa", "Musca", "Indus", "Tucana", "Octans"}
	kinds    = []string{"relay", "bridge", "ledger", "gateway", "scheduler", "broker", "vault", "indexer", "mailer", "tracker"}
	teams    = []string{"payments", "identity", "search", "billing", "platform", "mobile", "data", "security"}
	regions  = []string{"eu-west", "eu-central", "us-east", "us-west", "ap-south", "ap-east"}
	people   = []string{"Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances", "Edsger", "Radia", "Tim", "Hedy"}
	meanings = []string{"the upstream refused the TLS handshake", "the disk quota of the spool is exhausted",
		"a replica fell behind by more than a minute", "the signing key expired", "the queue rejected an oversized message",
		"the schema migration is still running", "a client sent a malformed header", "the connection pool is exhausted"}
	fixes = []string{"renewing the certificate", "purging the spool directory", "restarting the lagging replica",
		"rotating the signing key", "raising the message size limit", "waiting for the migration to finish",
		"upgrading the client library", "raising the pool size"}
)

// runbook is one generated document with its facts.
type runbook struct {
	id, family, kind, title string
	port                    int
	region, team, person    string
	code, meaning           string
	passages                [4]string
}

// question asks for one fact of one runbook; answer is a phrase of the passage
// that holds it.
type question struct {
	kind, text, doc, answer string
}

func corpus() ([]runbook, []question) {
	rng := rand.New(rand.NewPCG(14, 2026))
	var books []runbook
	for fi, fam := range families {
		digits := fmt.Sprintf("%d%d%d%d", 1+fi%9, 4, 4, 7) // one multiset of digits per family
		codes := permutations(digits)
		rng.Shuffle(len(codes), func(i, j int) { codes[i], codes[j] = codes[j], codes[i] })
		for ki, kind := range kinds {
			b := runbook{id: strings.ToLower(fam + "-" + kind), family: fam, kind: kind, title: fam + " " + kind,
				port: 1024 + rng.IntN(60000), region: regions[rng.IntN(len(regions))], team: teams[rng.IntN(len(teams))],
				person: people[rng.IntN(len(people))], code: strings.ToUpper(fam[:3]) + "-" + codes[ki%len(codes)]}
			m := rng.IntN(len(meanings))
			b.meaning = meanings[m]
			name := "the " + b.title
			b.passages = [4]string{
				fmt.Sprintf("%s is the %s team's %s. It was introduced to take load off older systems and now carries most of the %s traffic of the company.", upperFirst(name), b.team, kind, b.team),
				fmt.Sprintf("To deploy %s, set %s_ENABLED=true in its environment. The service listens on port %d in the %s region, behind the shared load balancer.", name, strings.ToUpper(fam), b.port, b.region),
				fmt.Sprintf("Error %s raised by %s means %s. Operators fix it by %s and then replaying the failed requests.", b.code, name, b.meaning, fixes[m]),
				fmt.Sprintf("The on-call engineer for %s is %s. Pages go to %s first and escalate to the %s team lead after fifteen minutes.", name, b.person, b.person, b.team),
			}
			books = append(books, b)
		}
	}
	var qs []question
	pick := rng.Perm(len(books))
	for i, bi := range pick[:50] {
		b := books[bi]
		switch {
		case i < 20:
			switch i % 3 {
			case 0:
				qs = append(qs, question{"plain", fmt.Sprintf("Which port does the %s listen on?", b.title), b.id, fmt.Sprint(b.port)})
			case 1:
				qs = append(qs, question{"plain", fmt.Sprintf("Who is the on-call engineer for the %s?", b.title), b.id, "on-call engineer"})
			default:
				qs = append(qs, question{"plain", fmt.Sprintf("Which region is the %s deployed in?", b.title), b.id, b.region})
			}
		case i < 35:
			misspelt := doubled(b.family) + " " + doubled(b.kind)
			if i%2 == 0 {
				qs = append(qs, question{"misspelt", fmt.Sprintf("which port does the %s listen on", misspelt), b.id, fmt.Sprint(b.port)})
			} else {
				qs = append(qs, question{"misspelt", fmt.Sprintf("who is on call for the %s", misspelt), b.id, "on-call engineer"})
			}
		default:
			qs = append(qs, question{"code", fmt.Sprintf("What does %s mean?", b.code), b.id, b.code})
		}
	}
	return books, qs
}

// markdown renders a runbook as its document's content.
func (b runbook) markdown() string {
	return "# " + b.title + "\n\n" + strings.Join(b.passages[:], "\n\n") + "\n"
}

// doubled misspells a word the way fingers do: its third letter typed twice.
func doubled(w string) string {
	return w[:3] + w[2:]
}

func upperFirst(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// permutations lists the distinct orderings of s's characters.
func permutations(s string) []string {
	seen := map[string]bool{}
	var out []string
	var rec func(prefix, rest string)
	rec = func(prefix, rest string) {
		if rest == "" {
			if !seen[prefix] {
				seen[prefix] = true
				out = append(out, prefix)
			}
			return
		}
		for i := range rest {
			rec(prefix+rest[i:i+1], rest[:i]+rest[i+1:])
		}
	}
	rec("", s)
	return out
}
