// Package batch is the domain of the OpenAI Files and Batch APIs: the file and
// batch records the store keeps, the batch statuses, the input line format
// checked when a file is uploaded, and the output line format of the result
// files. It has no I/O, so the store, the job handlers and the /v1 handlers
// share it without depending on each other.
package batch

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"slices"

	"spass/shared/identity"
)

// The endpoints a batch may run, each line of its input file naming the same one.
const (
	EndpointChat       = "/v1/chat/completions"
	EndpointEmbeddings = "/v1/embeddings"
)

// Endpoints lists the endpoints a batch may run.
var Endpoints = []string{EndpointChat, EndpointEmbeddings}

// File purposes. PurposeBatch files are checked line by line at upload; the
// gateway writes PurposeBatchOutput files (a batch's output and error files, as
// OpenAI names both); the other purposes are stored as they come.
const (
	PurposeBatch       = "batch"
	PurposeBatchOutput = "batch_output"
)

// UploadPurposes are the purposes a client may upload with, OpenAI's list.
var UploadPurposes = []string{"assistants", "batch", "fine-tune", "vision", "user_data", "evals"}

// File is one stored file's metadata; its bytes are on disk. Times are unix ms.
type File struct {
	ID        string `db:"id"`
	TenantID  string `db:"tenant_id"`
	UserID    string `db:"user_id"`
	Purpose   string `db:"purpose"`
	Filename  string `db:"filename"`
	Bytes     int64  `db:"bytes"`
	Lines     int    `db:"lines"`    // requests of a batch input file
	Endpoint  string `db:"endpoint"` // the url every line of a batch input file names
	CreatedAt int64  `db:"created_at"`
}

// Status is a batch's OpenAI status.
type Status = string

// The statuses, in OpenAI's words. A batch is created validating; its dispatch
// moves it to in_progress; the last line's result moves it to finalizing, a
// cancel to cancelling, the end of its completion window to finalizing as well
// (ending expired); the finalize job writes the result files and sets the
// ending status: completed, cancelled or expired. failed is a batch whose input
// could not be read.
const (
	Validating Status = "validating"
	Failed     Status = "failed"
	InProgress Status = "in_progress"
	Finalizing Status = "finalizing"
	Completed  Status = "completed"
	Expired    Status = "expired"
	Cancelling Status = "cancelling"
	Cancelled  Status = "cancelled"
)

// Open reports whether a batch in status s still has work to do.
func Open(s Status) bool {
	return s == Validating || s == InProgress || s == Finalizing || s == Cancelling
}

// Batch is one batch. Times are unix ms, 0 when unset; Errors is the JSON of
// OpenAI's errors list, "" when there are none.
type Batch struct {
	ID               string `db:"id"`
	TenantID         string `db:"tenant_id"`
	UserID           string `db:"user_id"`
	Role             string `db:"role"`
	Token            string `db:"token"`
	Endpoint         string `db:"endpoint"`
	InputFileID      string `db:"input_file_id"`
	CompletionWindow string `db:"completion_window"`
	Metadata         string `db:"metadata"`
	Status           Status `db:"status"`
	Ending           Status `db:"ending"`
	Errors           string `db:"errors"`
	Total            int    `db:"total"`
	Completed        int    `db:"completed"`
	Failed           int    `db:"failed"`
	Running          int    `db:"running"`
	PromptTokens     int64  `db:"prompt_tokens"`
	CompletionTokens int64  `db:"completion_tokens"`
	OutputFileID     string `db:"output_file_id"`
	ErrorFileID      string `db:"error_file_id"`
	CreatedAt        int64  `db:"created_at"`
	ExpiresAt        int64  `db:"expires_at"`
	InProgressAt     int64  `db:"in_progress_at"`
	FinalizingAt     int64  `db:"finalizing_at"`
	CompletedAt      int64  `db:"completed_at"`
	FailedAt         int64  `db:"failed_at"`
	ExpiredAt        int64  `db:"expired_at"`
	CancellingAt     int64  `db:"cancelling_at"`
	CancelledAt      int64  `db:"cancelled_at"`
	ProgressAt       int64  `db:"progress_at"`
}

// Principal is whom the batch's lines run as: its creator.
func (b Batch) Principal() identity.Principal {
	return identity.Principal{Tenant: b.TenantID, User: b.UserID, Role: b.Role, Token: b.Token}
}

// NewFileID returns a fresh file id in OpenAI's form.
func NewFileID() string { return "file-" + randomHex() }

// NewBatchID returns a fresh batch id in OpenAI's form.
func NewBatchID() string { return "batch_" + randomHex() }

// ResultFileID names a batch's output ("output") or error ("error") file. It is
// derived from the batch id, so a finalize run again after a crash writes the
// same file instead of a second one.
func ResultFileID(batchID, kind string) string {
	h := sha256.Sum256([]byte(batchID + "/" + kind))
	return "file-" + hex.EncodeToString(h[:12])
}

func randomHex() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ValidID reports whether id can name a file or batch: ids name paths on disk,
// so only what the gateway generates is accepted.
func ValidID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// UploadPurpose reports whether a client may upload with purpose p.
func UploadPurpose(p string) bool { return slices.Contains(UploadPurposes, p) }
