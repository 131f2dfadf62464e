/** An S3 client on the local stack's R2 bucket, as the processor sees it (tests and benches use it too). */
import { S3Client } from "@aws-sdk/client-s3";
import { LOCAL_S3, type LocalStack } from "./stack.ts";

export function localS3(stack: Pick<LocalStack, "s3Endpoint">): S3Client {
  const client = new S3Client({
    endpoint: stack.s3Endpoint,
    region: "auto",
    forcePathStyle: true,
    credentials: { accessKeyId: LOCAL_S3.accessKeyId, secretAccessKey: LOCAL_S3.secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  // workerd never answers 100 Continue.
  client.middlewareStack.remove("addExpectContinueMiddleware");
  return client;
}
