// Command bootstrap runs the RAG endpoint group (/a1/rag) as an AWS Lambda
// function (provided.al2023); see shared/lambdahttp and template.yaml. Indexing
// runs on the workers: the function needs RedisUrl to queue it.
package main

import (
	"spass/functions/rag"
	"spass/shared/lambdahttp"
)

func main() { lambdahttp.Main(rag.New) }
