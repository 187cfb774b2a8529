// Command bootstrap runs the tenant endpoint group as an AWS Lambda function
// (provided.al2023); see shared/lambdahttp and template.yaml.
package main

import (
	"spass/functions/tenant"
	"spass/shared/lambdahttp"
)

func main() { lambdahttp.Main(tenant.New) }
